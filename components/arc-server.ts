import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as hybridcompute from "@pulumi/azure-native/hybridcompute";
import { remote } from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
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

/** azcmagent --tags form: Name=Value,Name='Value with spaces' (azure-docs azcmagent-connect.md). */
export function agentTags(tags: Readonly<Record<string, string>>): string {
  return Object.keys(tags)
    .sort()
    .map((k) => `${k}=${/[\s,]/.test(tags[k]) ? `'${tags[k].replace(/'/g, "")}'` : tags[k]}`)
    .join(",");
}

export interface ArcOnboarding {
  /** SSH address, account (passwordless sudo / administrator) and port. */
  readonly ssh: { readonly host: string; readonly user: string; readonly port: number };
  /** OpenSSH private key for that account (a Pulumi secret). */
  readonly privateKey: pulumi.Input<string>;
  /** Application id of the onboarding service principal. */
  readonly servicePrincipalId: string;
  /** Its client secret (a Pulumi secret); reaches the host on stdin only. */
  readonly servicePrincipalSecret: pulumi.Input<string>;
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
  /** Resources the check must wait for (e.g. the probe secret). */
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
  /** ARM ids of the containers that get Storage Blob Data Contributor, by container name. */
  readonly blobContainerIds: Readonly<Record<string, pulumi.Input<string>>>;
  /** Vault id and which data roles it gets there (none: no grant). */
  readonly keyVault?: { readonly id: pulumi.Input<string>; readonly access: "secrets-user" | "secrets-and-certificates-user" };
  /** The on-host check; omitted when there is no container to upload to. */
  readonly verification?: ArcVerification;
}

/**
 * One Azure Arc-enabled server: (for onboard: ssh) the agent installed and connected over SSH with a
 * service principal, disconnected again on destroy; its system-assigned identity read from ARM once
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
    if (args.onboarding) {
      const o = args.onboarding;
      const secret = pulumi.secret(o.servicePrincipalSecret);
      const connection = { host: o.ssh.host, user: o.ssh.user, port: o.ssh.port, privateKey: pulumi.secret(o.privateKey) };
      const params = {
        "sp-id": o.servicePrincipalId,
        "tenant-id": o.tenantId,
        "subscription-id": o.subscriptionId,
        "resource-group": args.resourceGroupName,
        location: args.location,
        "resource-name": args.machineName,
        tags: agentTags(args.tags),
        users: o.users.join(" "),
      };
      const resolved = pulumi.output(params);
      const command = (mode: "connect" | "disconnect") =>
        resolved.apply((p) => (linux ? linuxCommand(mode, p) : windowsCommand(mode, p)));
      onboard = new remote.Command(
        `${name}-onboard`,
        {
          connection,
          create: command("connect"),
          delete: command("disconnect"),
          // The secret goes to the script's stdin: never on a command line, never in `ps` on the host.
          stdin: secret,
          triggers: [args.machineName, args.os],
        },
        { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["stdin"] },
      );
    }

    // Read the identity from ARM. For a server this stack onboards, the lookup waits for the
    // onboarding (dependsOn) and takes the machine name through the command's id: on a brand-new
    // stack that id is unknown at preview, so the SDK skips the invoke instead of asking ARM for a
    // machine that does not exist yet (@pulumi/pulumi runtime/invoke.js: unknown inputs -> unknown result).
    const machineName = onboard ? onboard.id.apply(() => args.machineName) : pulumi.output(args.machineName);
    const machine = hybridcompute.getMachineOutput(
      { machineName, resourceGroupName: args.resourceGroupName },
      { parent: this, dependsOn: onboard ? [onboard] : [] },
    );
    this.machineId = machine.id;
    this.principalId = machine.apply((m) => {
      const id = m.identity?.principalId;
      if (!id) throw new Error(`Arc machine ${args.machineName} has no system-assigned identity in ARM (is the agent connected? azcmagent show)`);
      return id;
    });

    const grants: pulumi.Resource[] = [];
    for (const container of Object.keys(args.blobContainerIds).sort()) {
      grants.push(
        grantRole(
          `${name}-blob-${container}`,
          { scope: args.blobContainerIds[container], principalId: this.principalId, principalType: "ServicePrincipal", role: "Storage Blob Data Contributor", description: `Arc machine ${args.machineName}: write to container ${container}` },
          { parent: this },
        ),
      );
    }
    if (args.keyVault) {
      grants.push(
        grantRole(`${name}-kv-secrets`, { scope: args.keyVault.id, principalId: this.principalId, principalType: "ServicePrincipal", role: "Key Vault Secrets User", description: `Arc machine ${args.machineName}: read secrets` }, { parent: this }),
      );
      if (args.keyVault.access === "secrets-and-certificates-user") {
        grants.push(
          grantRole(`${name}-kv-certificates`, { scope: args.keyVault.id, principalId: this.principalId, principalType: "ServicePrincipal", role: "Key Vault Certificate User", description: `Arc machine ${args.machineName}: read certificates` }, { parent: this }),
        );
      }
    }

    let verify: hybridcompute.MachineRunCommand | undefined;
    if (args.verification) {
      const v = args.verification;
      const parameters = [
        { name: "STORAGE_ACCOUNT_URL", value: v.blobEndpoint },
        { name: "CONTAINER", value: v.container },
        { name: "VAULT_URI", value: v.vaultUri ?? "" },
        { name: "SECRET_NAME", value: v.secretName ?? "" },
        { name: "EXPECTED_SECRET", value: v.expectedSecret ?? "" },
        { name: "BLOB_NAME", value: `keyless-verify/${args.machineName}.txt` },
      ];
      // A run command through ARM: needs no SSH, so `existing` servers are checked the same way; it
      // runs as root/SYSTEM, which may read the HIMDS key file (docs/arc.md explains the choice).
      verify = new hybridcompute.MachineRunCommand(
        `${name}-verify`,
        {
          machineName: machine.name,
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          runCommandName: "keyless-verify-identity",
          source: { script: linux ? arcScripts.verifyLinux : arcScripts.verifyWindows },
          parameters: linux ? parameters : parameters.map((p) => ({ ...p, name: psParameter[p.name] })),
          asyncExecution: false,
          timeoutInSeconds: 300,
          tags: { ...args.tags },
        },
        { parent: this, dependsOn: [...grants, ...(v.dependsOn ?? [])] },
      );
    }
    this.verification = verify ? verify.instanceView.apply((iv) => (iv ? { exitCode: iv.exitCode, output: iv.output, error: iv.error } : undefined)) : pulumi.output(undefined);
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
  const args = Object.keys(p)
    .filter((k) => mode === "connect" || k === "sp-id")
    .map((k) => shQuote(`${k}=${p[k]}`))
    .join(" ");
  // The script text rides in a quoted heredoc (no expansion); its stdin is the SSH session's, which
  // carries the service principal secret.
  return `sudo -n bash -c "$(cat <<'KEYLESS_ARC_ONBOARD'\n${arcScripts.onboardLinux}KEYLESS_ARC_ONBOARD\n)" arc-onboard ${mode} ${args}`;
}

function windowsCommand(mode: "connect" | "disconnect", p: Record<string, string>): string {
  const table = [
    `Mode = ${psQuote(mode)}`,
    `ServicePrincipalId = ${psQuote(p["sp-id"])}`,
    `TenantId = ${psQuote(p["tenant-id"])}`,
    `SubscriptionId = ${psQuote(p["subscription-id"])}`,
    `ResourceGroup = ${psQuote(p["resource-group"])}`,
    `Location = ${psQuote(p.location)}`,
    `ResourceName = ${psQuote(p["resource-name"])}`,
    `Tags = ${psQuote(p.tags)}`,
  ].join("; ");
  const script = `$Arc = @{ ${table} }\n${arcScripts.onboardWindows}`;
  return `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${Buffer.from(script, "utf16le").toString("base64")}`;
}
