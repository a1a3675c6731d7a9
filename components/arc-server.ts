import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getMachineOutput } from "@pulumi/azure-native/hybridcompute/getMachine";
import { MachineRunCommand } from "@pulumi/azure-native/hybridcompute/machineRunCommand";
import * as local from "@pulumi/command/local";
import * as remote from "@pulumi/command/remote";
import * as pulumi from "@pulumi/pulumi";
import { blobPrefixCondition } from "../lib/blob-condition";
import { agentTagProblem } from "../lib/config/arc";
import { SharedByInputs } from "../lib/shared-outputs";
import { grantRole } from "./role-assignment";

// Host scripts are real files (scripts/arc/), read once when the program starts.
const scriptDir = join(__dirname, "..", "scripts", "arc");
export const arcScripts = {
  onboardLinux: readFileSync(join(scriptDir, "onboard-linux.sh"), "utf8"),
  onboardWindows: readFileSync(join(scriptDir, "onboard-windows.ps1"), "utf8"),
  verifyLinux: readFileSync(join(scriptDir, "verify-identity.sh"), "utf8"),
  verifyWindows: readFileSync(join(scriptDir, "verify-identity.ps1"), "utf8"),
};

/** Single-quote a value for a POSIX shell. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Single-quote a value for PowerShell. */
function psQuote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/**
 * azcmagent --tags form: Name=Value,Name='Value with spaces' (azure-docs azcmagent-connect.md). A
 * name or value the syntax cannot carry (, = quotes, control characters) is refused, never altered;
 * config validation (lib/config/arc.ts) refuses them first with the key's name.
 */
export function agentTags(tags: Readonly<Record<string, string>>): string {
  const quote = (s: string) => (/\s/.test(s) ? `'${s}'` : s);
  return Object.keys(tags)
    .sort()
    .map((k) => {
      const bad = agentTagProblem(k) ?? agentTagProblem(tags[k]);
      if (bad) throw new Error(`tag ${JSON.stringify(k)} cannot be passed to azcmagent --tags: ${bad}`);
      return `${quote(k)}=${quote(tags[k])}`;
    })
    .join(",");
}

/** Longest command line cmd.exe (Win32-OpenSSH's default shell) runs: 8191 characters (learn.microsoft.com troubleshoot, "Command prompt (Cmd.exe) command-line string limitation"). */
export const cmdExeLimit = 8191;

/**
 * The stack's verdict on a verification run command: its output when the script passed; otherwise an
 * error that fails `pulumi up` and says how to run the check again. A run command through ARM succeeds
 * as a resource even when its script exits non-zero, so the exit code is checked here. A run command
 * that came back without an instance view (RunCommands_Get returns one; a create response need not)
 * is not a pass: `pulumi up` warns that the result is unknown and says where to read it.
 */
export function verificationVerdict(
  machineName: string,
  urn: string,
  iv: { exitCode?: number; output?: string; error?: string; executionState?: string } | undefined,
  dryRun: boolean = pulumi.runtime.isDryRun(),
): { exitCode?: number; output?: string; error?: string } | undefined {
  if (iv === undefined) {
    if (!dryRun) {
      pulumi.log.warn(
        `Arc verification on ${machineName}: Azure returned no result for the run command, so whether the check passed is unknown; read it with az connectedmachine run-command show --machine-name ${machineName} --resource-group <arc group> --name keyless-verify-identity, or run it again: pulumi up --replace '${urn}'`,
      );
    }
    return undefined;
  }
  if (iv.exitCode !== 0) {
    const why = (iv.error ?? "").trim().split("\n").filter((l) => l.startsWith("FAIL ")).join("; ") || `exit code ${iv.exitCode ?? "unknown"}, state ${iv.executionState ?? "unknown"}`;
    throw new pulumi.RunError(
      `Arc verification failed on ${machineName}: ${why}. Fix the cause (docs/arc.md, "Reading the verification result"), then run the check again: pulumi up --replace '${urn}'`,
    );
  }
  return { exitCode: iv.exitCode, output: iv.output, error: iv.error };
}

/** Outputs every server of a fleet builds from the same inputs, built once (lib/shared-outputs.ts). */
const targets = new SharedByInputs<pulumi.Output<[string, string, string]>>();
const stdins = new SharedByInputs<pulumi.Output<string>>();

export interface ArcOnboarding {
  /** SSH address, account (passwordless sudo / administrator) and port. */
  readonly ssh: { readonly host: string; readonly user: string; readonly port: number };
  /** OpenSSH private key for that account (a Pulumi secret). */
  readonly privateKey: pulumi.Input<string>;
  /**
   * access-token: azcmagent connects with a short-lived ARM token of the identity running `pulumi up`;
   * service-principal: with a service principal's secret. Either reaches the host on stdin only.
   */
  readonly method: "access-token" | "service-principal";
  /** service-principal: application id of the onboarding service principal. */
  readonly servicePrincipalId?: string;
  /** service-principal: its client secret; access-token: the ARM access token (a Pulumi secret either way). */
  readonly credential: pulumi.Input<string>;
  /** Tenant and subscription the machine resource is created in. */
  readonly tenantId: pulumi.Input<string>;
  readonly subscriptionId: pulumi.Input<string>;
  /** Linux accounts to add to the himds group. */
  readonly users: readonly string[];
}

export interface ArcVerification {
  /** https://<account>.blob.core.windows.net/ */
  readonly blobEndpoint: pulumi.Input<string>;
  /** Container the upload goes to (one the identity was granted). */
  readonly container: string;
  /** Vault URI, or undefined to skip the Key Vault step. */
  readonly vaultUri?: pulumi.Input<string>;
  /** Name and (non-sensitive) value of the probe secret. */
  readonly secretName?: pulumi.Input<string>;
  readonly expectedSecret?: string;
  /** Resources the check must wait for (e.g. the probe secret and its grants). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

export interface ArcServerArgs {
  /** Arc machine resource name. */
  readonly machineName: string;
  /** linux or windows: which scripts run. */
  readonly os: "linux" | "windows";
  /** Resource group of the machine resource. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region of the machine resource. */
  readonly location: string;
  /** Tags for the machine resource (set by the agent at connect time). */
  readonly tags: Readonly<Record<string, string>>;
  /** Present for onboard: ssh; absent for an existing (already connected) machine. */
  readonly onboarding?: ArcOnboarding;
  /** ARM ids of the containers that get Storage Blob Data Contributor (limited to `<machineName>/`), by container name. */
  readonly blobContainerIds: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Key Vault grants: Key Vault Secrets User on each secret in `secretIds` (secret scope, keyed by a
   * stable name), or on the vault when `vaultId` is set; Certificate User only on a vault.
   */
  readonly keyVault?: {
    readonly access: "secrets-user" | "secrets-and-certificates-user";
    readonly vaultId?: pulumi.Input<string>;
    readonly secretIds: Readonly<Record<string, pulumi.Input<string>>>;
  };
  /** The on-host check; omitted when there is no container to upload to. */
  readonly verification?: ArcVerification;
}

/**
 * One Azure Arc-enabled server: (for onboard: ssh) the agent installed and connected over SSH with the
 * deployer's short-lived token or a service principal, disconnected again on destroy; its system-assigned identity read from ARM once
 * it exists; data-plane grants for that identity; and a run command through ARM that proves on the
 * host that the identity reaches Blob storage and Key Vault.
 */
export class ArcServer extends pulumi.ComponentResource {
  /** Object id of the machine's system-assigned identity. */
  public readonly principalId: pulumi.Output<string>;
  /** ARM id of the Microsoft.HybridCompute/machines resource. */
  public readonly machineId: pulumi.Output<string>;
  /** The verification run command's result (exit code and output), when there is one. */
  public readonly verification: pulumi.Output<{ exitCode?: number; output?: string; error?: string } | undefined>;

  constructor(name: string, args: ArcServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:arc:ArcServer", name, {}, opts);
    const linux = args.os === "linux";
    let onboard: remote.Command | undefined;
    let cleanup: local.Command | undefined;
    if (args.onboarding) {
      const o = args.onboarding;
      const token = o.method === "access-token";
      const connection = { host: o.ssh.host, user: o.ssh.user, port: o.ssh.port, privateKey: pulumi.secret(o.privateKey) };
      // Service principal: the same parameters (and so the same command strings) as before the
      // access-token method existed, so existing stacks see no change.
      // The three parameters that are Outputs come from one Output shared by every server with the
      // same tenant, subscription and group (lib/shared-outputs.ts); the rest are plain per server.
      const target = targets.get([o.tenantId, o.subscriptionId, args.resourceGroupName], () => pulumi.all([o.tenantId, o.subscriptionId, args.resourceGroupName]));
      const tags = agentTags(args.tags);
      const params = ([tenantId, subscriptionId, resourceGroup]: readonly [string, string, string]): Record<string, string> => ({
        ...(token ? { method: "access-token" } : { "sp-id": o.servicePrincipalId ?? "" }),
        "tenant-id": tenantId,
        "subscription-id": subscriptionId,
        "resource-group": resourceGroup,
        location: args.location,
        "resource-name": args.machineName,
        tags,
        users: o.users.join(" "),
      });
      const command = (mode: "connect" | "disconnect") =>
        target.apply((t) => {
          const p = params(t);
          const cmd = linux ? linuxCommand(mode, p) : windowsCommand(mode, p);
          if (!linux && cmd.length > cmdExeLimit) throw new Error(`Windows onboarding command for ${args.machineName} is ${cmd.length} characters, over cmd.exe's ${cmdExeLimit}: shorten keyless:tags`);
          return cmd;
        });
      // stdin: the credential on its first line (Windows: then the script, see windowsCommand). Never
      // on a command line, never in `ps` on the host. The same for every server of the same OS with
      // the same credential, so they share it.
      const stdin = stdins.get([o.credential, linux], () => pulumi.secret(pulumi.output(o.credential).apply((c) => (linux ? c : `${c}\n${arcScripts.onboardWindows}`))));
      onboard = new remote.Command(
        `${name}-onboard`,
        {
          connection,
          create: command("connect"),
          delete: command("disconnect"),
          stdin,
          triggers: [args.machineName, args.os],
        },
        {
          parent: this,
          deleteBeforeReplace: true,
          additionalSecretOutputs: ["stdin"],
          // A fresh token is minted at every run. Without this, each `pulumi up` would see a changed
          // stdin and run the command again (pulumi-command: a change to an input other than
          // `triggers` runs `update`, or `create` when there is none; provider/pkg/provider/common/inputs.go).
          // ignoreChanges keeps the stored value for updates and uses the program's value only on a
          // create, i.e. for a server this stack has not onboarded yet (pulumi.com/docs/iac/concepts/options/ignorechanges).
          ...(token ? { ignoreChanges: ["stdin"] } : {}),
        },
      );
      if (token) {
        // The token has long expired when `pulumi destroy` runs, so the host only disconnects
        // locally (`azcmagent disconnect --force-local-only`, for a resource that is deleted in
        // Azure separately: azure-docs azure-arc/servers/azcmagent-disconnect.md) and the machine
        // resource is deleted here, first, with the live Azure CLI login of whoever runs destroy.
        // Creating it does nothing; it exists to be deleted after the grants and the run command
        // that hang off the machine, and before the agent disconnects.
        const machineId = pulumi.interpolate`/subscriptions/${o.subscriptionId}/resourceGroups/${args.resourceGroupName}/providers/Microsoft.HybridCompute/machines/${args.machineName}`;
        cleanup = new local.Command(
          `${name}-machine`,
          { delete: pulumi.interpolate`az resource delete --ids ${machineId} --only-show-errors`, triggers: [args.machineName] },
          { parent: this, dependsOn: [onboard] },
        );
      }
    }
    const onboarded: pulumi.Resource[] = [...(onboard ? [onboard] : []), ...(cleanup ? [cleanup] : [])];

    // Read the identity from ARM. For a server this stack onboards, the lookup waits for the
    // onboarding (dependsOn) and takes the machine name through the command's id: on a brand-new
    // stack that id is unknown at preview, so the SDK skips the invoke instead of asking ARM for a
    // machine that does not exist yet (@pulumi/pulumi runtime/invoke.js: unknown inputs -> unknown result).
    const waitFor: pulumi.Output<unknown> | undefined = onboard && (cleanup ? pulumi.all([onboard.id, cleanup.id]) : onboard.id);
    const machineName = waitFor ? waitFor.apply(() => args.machineName) : pulumi.output(args.machineName);
    const machine = getMachineOutput({ machineName, resourceGroupName: args.resourceGroupName }, { parent: this, dependsOn: onboarded });
    this.machineId = machine.id;
    this.principalId = machine.apply((m) => {
      const id = m.identity?.principalId;
      if (!id) throw new Error(`Arc machine ${args.machineName} has no system-assigned identity in ARM (is the agent connected? azcmagent show)`);
      return id;
    });

    // Every grant waits for the onboarding (and the machine-resource cleanup), so at destroy the grants
    // go first, then the machine resource, then the agent.
    const grantOpts = { parent: this, dependsOn: onboarded };
    const grants: pulumi.Resource[] = [];
    const prefix = `${args.machineName}/`;
    for (const container of Object.keys(args.blobContainerIds).sort()) {
      grants.push(
        grantRole(
          `${name}-blob-${container}`,
          {
            scope: args.blobContainerIds[container],
            principalId: this.principalId,
            principalType: "ServicePrincipal",
            role: "Storage Blob Data Contributor",
            description: `Arc machine ${args.machineName}: blobs under ${container}/${prefix} only`,
            condition: blobPrefixCondition(container, prefix),
            conditionVersion: "2.0",
          },
          grantOpts,
        ),
      );
    }
    if (args.keyVault) {
      const kv = args.keyVault;
      if (kv.vaultId !== undefined) {
        grants.push(grantRole(`${name}-kv-secrets`, { scope: kv.vaultId, principalId: this.principalId, principalType: "ServicePrincipal", role: "Key Vault Secrets User", description: `Arc machine ${args.machineName}: read every secret of the vault` }, grantOpts));
        if (kv.access === "secrets-and-certificates-user") {
          grants.push(grantRole(`${name}-kv-certificates`, { scope: kv.vaultId, principalId: this.principalId, principalType: "ServicePrincipal", role: "Key Vault Certificate User", description: `Arc machine ${args.machineName}: read certificates` }, grantOpts));
        }
      } else {
        // Key Vault RBAC accepts a role on one secret (azure-docs key-vault/general/rbac-guide.md,
        // "Secret scope role assignment").
        for (const key of Object.keys(kv.secretIds).sort()) {
          grants.push(grantRole(`${name}-kv-secret-${key}`, { scope: kv.secretIds[key], principalId: this.principalId, principalType: "ServicePrincipal", role: "Key Vault Secrets User", description: `Arc machine ${args.machineName}: read secret ${key}` }, grantOpts));
        }
      }
    }

    let verify: MachineRunCommand | undefined;
    if (args.verification) {
      const v = args.verification;
      const parameters = [
        { name: "STORAGE_ACCOUNT_URL", value: v.blobEndpoint },
        { name: "CONTAINER", value: v.container },
        { name: "VAULT_URI", value: v.vaultUri ?? "" },
        { name: "SECRET_NAME", value: v.secretName ?? "" },
        { name: "EXPECTED_SECRET", value: v.expectedSecret ?? "" },
        // Under the machine's own prefix: the only place its grant's condition lets it write.
        { name: "BLOB_NAME", value: `${prefix}keyless-verify.txt` },
      ];
      // A run command through ARM: needs no SSH, so `existing` servers are checked the same way; it
      // runs as root/SYSTEM, which may read the HIMDS key file (docs/arc.md explains the choice).
      verify = new MachineRunCommand(
        `${name}-verify`,
        {
          machineName: machine.name,
          resourceGroupName: args.resourceGroupName,
          // The machine's own region, as in the API's RunCommands_CreateOrUpdate example: a child of the
          // machine, and an adopted server may be registered in another region than the stack's.
          location: machine.location,
          runCommandName: "keyless-verify-identity",
          source: { script: linux ? arcScripts.verifyLinux : arcScripts.verifyWindows },
          parameters: linux ? parameters : parameters.map((p) => ({ ...p, name: psParameter[p.name] })),
          asyncExecution: false,
          // Blob and Key Vault each retry a 403 for up to 8 minutes while new grants propagate, on top of
          // up to 11 requests of at most 30 s (verify-identity.sh RETRY_DELAYS, curl --max-time): 27
          // minutes at worst for the two, so the handler does not kill the script while it waits.
          timeoutInSeconds: 1800,
          tags: { ...args.tags },
        },
        // Re-run with `pulumi up --replace` (the failure message says so): the name is fixed and
        // azure-native refuses to create a run command that exists ("cannot create already existing
        // resource", provider.go), so the old one goes first (policy/readiness.ts keyless-readiness-rerun-replace).
        { parent: this, dependsOn: [...onboarded, ...grants, ...(v.dependsOn ?? [])], deleteBeforeReplace: true },
      );
    }
    // One apply on the instance view, the URN (known from registration on, at preview too, and of the
    // same resource) read inside it: the same value, resources, secretness and unknown-ness as
    // pulumi.all([urn, instanceView]), without the four Outputs all() adds.
    const command = verify;
    this.verification = command ? command.instanceView.apply((iv) => command.urn.apply((urn) => verificationVerdict(args.machineName, urn, iv))) : pulumi.output(undefined);
    this.registerOutputs({ principalId: this.principalId, machineId: this.machineId, verification: this.verification });
  }
}

/** verify-identity.ps1's parameter names for the Linux script's variables. */
const psParameter: Record<string, string> = {
  STORAGE_ACCOUNT_URL: "StorageAccountUrl",
  CONTAINER: "Container",
  VAULT_URI: "VaultUri",
  SECRET_NAME: "SecretName",
  EXPECTED_SECRET: "ExpectedSecret",
  BLOB_NAME: "BlobName",
};

function linuxCommand(mode: "connect" | "disconnect", p: Record<string, string>): string {
  // disconnect needs only the method (sp-id for the service principal, which disconnects with it).
  const args = Object.keys(p)
    .filter((k) => mode === "connect" || k === "sp-id" || k === "method")
    .map((k) => shQuote(`${k}=${p[k]}`))
    .join(" ");
  // The script text rides in a quoted heredoc (no expansion); its stdin is the SSH session's, which
  // carries the credential.
  return `sudo -n bash -c "$(cat <<'KEYLESS_ARC_ONBOARD'\n${arcScripts.onboardLinux}KEYLESS_ARC_ONBOARD\n)" arc-onboard ${mode} ${args}`;
}

/**
 * Windows: a short encoded bootstrap that holds the (non-secret) parameters and runs the script it
 * reads from stdin after the credential's line. The script itself (onboard-windows.ps1, several
 * thousand characters, twice that as UTF-16 base64) no longer rides on the command line, which
 * cmd.exe, Win32-OpenSSH's default shell, cuts at 8,191 characters.
 */
function windowsCommand(mode: "connect" | "disconnect", p: Record<string, string>): string {
  const table = [
    `Mode = ${psQuote(mode)}`,
    `Method = ${psQuote(p.method ?? "service-principal")}`,
    `ServicePrincipalId = ${psQuote(p["sp-id"] ?? "")}`,
    `TenantId = ${psQuote(p["tenant-id"])}`,
    `SubscriptionId = ${psQuote(p["subscription-id"])}`,
    `ResourceGroup = ${psQuote(p["resource-group"])}`,
    `Location = ${psQuote(p.location)}`,
    `ResourceName = ${psQuote(p["resource-name"])}`,
    `Tags = ${psQuote(p.tags)}`,
  ].join("; ");
  const bootstrap = [
    `$Arc = @{ ${table} }`,
    "$stdin = [Console]::In.ReadToEnd()",
    "$nl = $stdin.IndexOf([char]10)",
    "if ($nl -lt 0) { [Console]::Error.WriteLine('arc-onboard: stdin must hold the credential line, then the script'); exit 2 }",
    "$Credential = $stdin.Substring(0, $nl).TrimEnd([char]13)",
    "& ([scriptblock]::Create($stdin.Substring($nl + 1)))",
    "exit $LASTEXITCODE",
  ].join("\n");
  return `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${Buffer.from(bootstrap, "utf16le").toString("base64")}`;
}
