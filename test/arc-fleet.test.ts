import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { arcScripts, verificationVerdict } from "../components/arc-server";
import { blobPrefixCondition } from "../lib/blob-condition";
import type { Plan } from "../tools/plan/engine";
import { invokeResults, machineLookups, mockDeployerObjectId, mockSubscriptionId } from "../tools/plan/mocks";
import { readStackConfig, secretPlaceholder } from "../tools/plan/stack-file";
import { ofType, planProgram, resource, root, transitiveDependencies, withConfig } from "./support/harness";

// The example fleet (two Linux servers onboarded over SSH with the deployer's access token, one
// Windows server adopted) planned with the real program under mocks: onboarding, principal lookup,
// grants, verification, no secret in clear, and what a second run and destroy do.

const fleet = readStackConfig(`${root}/stacks/arc-fleet.yaml`);
const plan = (preview: boolean, values = fleet.values): Promise<Plan> => planProgram(values, { stack: "arc", secretKeys: fleet.secretKeys, preview, allowPlaceholders: true });
const sub = `/subscriptions/${mockSubscriptionId}`;
const account = `${sub}/resourceGroups/rg-keyless-arc-shared/providers/Microsoft.Storage/storageAccounts`;
const container = (name: string) => expect.stringMatching(new RegExp(`^${account}/st\\w+/blobServices/default/containers/${name}$`));
const vaultRe = `^${sub}/resourceGroups/rg-keyless-arc-shared/providers/Microsoft.KeyVault/vaults/kv\\w+`;
const vault = expect.stringMatching(new RegExp(`${vaultRe}$`));
const role = (guid: string) => `${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;

describe("arc fleet, as pulumi up would run it", () => {
  it("onboards the ssh servers with the deployer's access token on stdin only, never in a command line", async () => {
    const p = await plan(false);
    const commands = ofType(p, "command:remote:Command");
    expect(commands.map((c) => c.name).sort()).toEqual(["arc-arc-lnx-01-onboard", "arc-arc-lnx-02-onboard"]);
    for (const c of commands) {
      expect(c.inputs.stdin).toBe("[secret]");
      expect(c.inputs.connection).toBe("[secret]");
      for (const k of ["create", "delete"] as const) {
        const cmd = c.inputs[k] as string;
        expect(cmd).not.toBe("[secret]"); // shown in clear because it holds no secret
        expect(cmd).not.toContain("offline-plan-arm-token");
        expect(cmd).toContain(arcScripts.onboardLinux);
      }
      expect(c.inputs.create).toContain(`arc-onboard connect 'method=access-token' 'tenant-id=`);
      expect(c.inputs.create).toContain("'resource-group=rg-keyless-arc-arc' 'location=japaneast'");
      expect(c.inputs.delete).toMatch(/arc-onboard disconnect 'method=access-token'$/);
      // A new token each run must not make the command run again (see "a second pulumi up" below).
      expect(p.ignoreChanges?.[c.urn]).toEqual(["stdin"]);
    }
    expect(resource(p, "command:remote:Command", "arc-arc-lnx-02-onboard").inputs.create).toContain("'resource-name=arc-lnx-02' 'tags=environment=arc,managed-by=pulumi,owner=platform,workload=keyless' 'users=azureuser deploy'");
    const text = JSON.stringify(p);
    expect(text).not.toContain(secretPlaceholder);
    expect(text).not.toContain("offline-plan-arm-token");
  });

  it("removes the machine resource at destroy with the deployer's live login, after the grants and before the agent disconnects", async () => {
    const p = await plan(false);
    for (const server of ["arc-lnx-01", "arc-lnx-02"]) {
      const cleanup = resource(p, "command:local:Command", `arc-${server}-machine`);
      expect(cleanup.inputs).toEqual({ delete: `az resource delete --ids ${sub}/resourceGroups/rg-keyless-arc-arc/providers/Microsoft.HybridCompute/machines/${server} --only-show-errors`, triggers: [server] });
      const onboard = resource(p, "command:remote:Command", `arc-${server}-onboard`);
      expect(cleanup.dependencies).toContain(onboard.urn);
      // Destroy runs in reverse: everything that waits for the cleanup goes before it.
      const hanging = [...ofType(p, "azure-native:authorization:RoleAssignment").filter((g) => g.name.startsWith(`arc-${server}-`)), resource(p, "azure-native:hybridcompute:MachineRunCommand", `arc-${server}-verify`)];
      expect(hanging).toHaveLength(5);
      for (const r of hanging) expect(r.dependencies).toEqual(expect.arrayContaining([onboard.urn, cleanup.urn]));
    }
    // Adopted servers are never deleted: no cleanup for arc-win-01.
    expect(ofType(p, "command:local:Command").filter((c) => c.name.endsWith("-machine")).map((c) => c.name)).toEqual(["arc-arc-lnx-01-machine", "arc-arc-lnx-02-machine"]);
  });

  it("grants each machine's identity Blob only under its own path and Key Vault only on the named secrets", async () => {
    const p = await plan(false);
    const grants = ofType(p, "azure-native:authorization:RoleAssignment").filter((g) => g.name.startsWith("arc-arc-"));
    expect(grants).toHaveLength(12);
    const probe = resource(p, "azure-native:keyvault:Secret", "arc-probe");
    for (const server of ["arc-lnx-01", "arc-lnx-02", "arc-win-01"]) {
      const group = server === "arc-win-01" ? "rg-onprem-arc" : "rg-keyless-arc-arc";
      const principal = p.outputs.arc as { servers: Record<string, { principalId: string; machineId: string }> };
      expect(principal.servers[server].machineId).toBe(`${sub}/resourceGroups/${group}/providers/Microsoft.HybridCompute/machines/${server}`);
      const principalId = principal.servers[server].principalId;
      expect(principalId).toMatch(/^[0-9a-f-]{36}$/);
      const mine = (n: string) => resource(p, "azure-native:authorization:RoleAssignment", `arc-${server}-${n}`).inputs;
      for (const c of ["arcupload", "arclogs"]) {
        expect(mine(`blob-${c}`)).toMatchObject({ scope: container(c), principalId, principalType: "ServicePrincipal", roleDefinitionId: role("ba92f5b4-2d11-453d-a403-e96b0029c9fe"), condition: blobPrefixCondition(c, `${server}/`), conditionVersion: "2.0" });
      }
      expect(mine("kv-secret-probe")).toMatchObject({ scope: probe.outputs.id, principalId, principalType: "ServicePrincipal", roleDefinitionId: role("4633458b-17de-408a-b874-0445c86b69e6") });
      expect(mine("kv-secret-arc-app-config")).toMatchObject({ scope: expect.stringMatching(new RegExp(`${vaultRe}/secrets/arc-app-config$`)), principalId, roleDefinitionId: role("4633458b-17de-408a-b874-0445c86b69e6") });
    }
    // Nothing at vault scope for the machines.
    expect(grants.filter((g) => /\/vaults\/kv\w+$/.test(String(g.inputs.scope)))).toEqual([]);
  });

  it("grants the vault scope only when asked", async () => {
    const arc = JSON.parse(fleet.values["keyless:arc"]) as Record<string, unknown>;
    const p = await plan(false, withConfig(fleet.values, { "keyless:arc": { ...arc, grants: { blobContainers: ["arcupload"], keyVault: "secrets-and-certificates-user", keyVaultScope: "vault" } } }));
    const kv = ofType(p, "azure-native:authorization:RoleAssignment").filter((g) => /^arc-arc-lnx-01-kv/.test(g.name));
    expect(kv.map((g) => [g.name, g.inputs.scope, g.inputs.roleDefinitionId])).toEqual([
      ["arc-arc-lnx-01-kv-certificates", vault, role("db79e9a7-68ee-4b58-9aeb-b90e7c24fcba")],
      ["arc-arc-lnx-01-kv-secrets", vault, role("4633458b-17de-408a-b874-0445c86b69e6")],
    ]);
  });

  it("lets the deployer delete the probe secret: Secrets Officer on the vault, before the secret, whose name is new each generation", async () => {
    const p = await plan(false);
    const grant = resource(p, "azure-native:authorization:RoleAssignment", "arc-deployer-secrets");
    expect(grant.inputs).toMatchObject({ scope: vault, principalId: mockDeployerObjectId, principalType: "ServicePrincipal", roleDefinitionId: role("b86a8fe4-44ce-4948-aee5-eccb2c155cd7") });
    const probe = resource(p, "azure-native:keyvault:Secret", "arc-probe");
    expect(probe.dependencies).toContain(grant.urn);
    // No fixed name: azure-native auto-names it, so a re-created stack never meets the soft-deleted one.
    expect(probe.inputs.secretName).toBeUndefined();
    expect(probe.inputs).toMatchObject({ properties: { value: "keyless-probe", contentType: "text/plain" } });
    expect(probe.outputs.name).toMatch(/^arc-probe[0-9a-f]{8}$/);
  });

  it("creates each run command in its machine's own region, which an adopted server may not share with the stack", async () => {
    const lookup = invokeResults["azure-native:hybridcompute:getMachine"];
    invokeResults["azure-native:hybridcompute:getMachine"] = (i) => ({ ...lookup(i), location: i.machineName === "arc-win-01" ? "westeurope" : "japaneast" });
    try {
      const p = await plan(false);
      expect(resource(p, "azure-native:hybridcompute:MachineRunCommand", "arc-arc-win-01-verify").inputs.location).toBe("westeurope");
      expect(resource(p, "azure-native:hybridcompute:MachineRunCommand", "arc-arc-lnx-01-verify").inputs.location).toBe("japaneast");
    } finally {
      invokeResults["azure-native:hybridcompute:getMachine"] = lookup;
    }
  });

  it("verifies on each host under its own prefix, after every grant it uses, the probe secret and the onboarding", async () => {
    const p = await plan(false);
    const probe = resource(p, "azure-native:keyvault:Secret", "arc-probe");
    for (const server of ["arc-lnx-01", "arc-lnx-02", "arc-win-01"]) {
      const v = resource(p, "azure-native:hybridcompute:MachineRunCommand", `arc-${server}-verify`);
      const linux = server !== "arc-win-01";
      expect(v.inputs).toMatchObject({ machineName: server, runCommandName: "keyless-verify-identity", asyncExecution: false, timeoutInSeconds: 1800, location: "japaneast", source: { script: linux ? arcScripts.verifyLinux : arcScripts.verifyWindows } });
      const params = Object.fromEntries((v.inputs.parameters as { name: string; value: string }[]).map((x) => [x.name, x.value]));
      expect(params).toEqual(
        linux
          ? { STORAGE_ACCOUNT_URL: expect.stringMatching(/^https:\/\/st\w+\.blob\.core\.windows\.net\/$/), CONTAINER: "arcupload", VAULT_URI: expect.stringMatching(/^https:\/\/kv\w+\.vault\.azure\.net\/$/), SECRET_NAME: probe.outputs.name, EXPECTED_SECRET: "keyless-probe", BLOB_NAME: `${server}/keyless-verify.txt` }
          : { StorageAccountUrl: expect.any(String), Container: "arcupload", VaultUri: expect.any(String), SecretName: probe.outputs.name, ExpectedSecret: "keyless-probe", BlobName: `${server}/keyless-verify.txt` },
      );
      const grantUrns = ofType(p, "azure-native:authorization:RoleAssignment").filter((g) => g.name.startsWith(`arc-${server}-`)).map((g) => g.urn);
      expect(grantUrns).toHaveLength(4);
      expect(v.dependencies).toEqual(expect.arrayContaining([...grantUrns, probe.urn]));
      if (linux) expect(v.dependencies).toContain(resource(p, "command:remote:Command", `arc-${server}-onboard`).urn);
      expect(transitiveDependencies(p, v.urn)).toContain(resource(p, "azure-native:authorization:RoleAssignment", "arc-deployer-secrets").urn);
    }
  });
});

describe("a second pulumi up", () => {
  it("mints a new token but leaves every onboarding input the engine diffs unchanged", async () => {
    // Each plan mints a fresh token (the mock counts). The token reaches only stdin, which the
    // engine keeps from state on updates (ignoreChanges), so pulumi-command sees no change and runs
    // nothing (create runs only on create; update only when inputs change).
    const first = await plan(false);
    const second = await plan(false);
    for (const name of ["arc-arc-lnx-01-onboard", "arc-arc-lnx-02-onboard"]) {
      const a = resource(first, "command:remote:Command", name);
      const b = resource(second, "command:remote:Command", name);
      const ignored = first.ignoreChanges?.[a.urn] ?? [];
      expect(second.ignoreChanges?.[b.urn]).toEqual(ignored);
      const diffed = (r: typeof a) => Object.fromEntries(Object.entries(r.inputs).filter(([k]) => !ignored.includes(k)));
      expect(diffed(b)).toEqual(diffed(a));
      expect(Object.keys(a.inputs).filter((k) => !Object.keys(diffed(a)).includes(k))).toEqual(["stdin"]);
    }
    // Nothing else in the plan changes either.
    expect(JSON.stringify(second.resources)).toBe(JSON.stringify(first.resources));
  });
});

describe("arc fleet at the first preview of a brand-new stack", () => {
  it("does not look up machines that are not onboarded yet; adopts the existing one at once", async () => {
    machineLookups.length = 0;
    const p = await plan(true);
    expect(machineLookups).toEqual([`${sub}/resourceGroups/rg-onprem-arc/providers/Microsoft.HybridCompute/machines/arc-win-01`]);
    // The grants of the ssh servers are planned; their principal is unknown until the agent connects.
    expect(ofType(p, "azure-native:authorization:RoleAssignment").filter((g) => g.name.startsWith("arc-arc-lnx-01-"))).toHaveLength(4);
    expect(ofType(p, "azure-native:hybridcompute:MachineRunCommand")).toHaveLength(3);
  });

  it("registers the Arc resource providers", async () => {
    const p = await plan(true);
    const registered = ofType(p, "command:local:Command").map((c) => c.name);
    expect(registered).toEqual(expect.arrayContaining(["resource-providers-microsoft.hybridcompute", "resource-providers-microsoft.guestconfiguration", "resource-providers-microsoft.hybridconnectivity"]));
  });
});

describe("the verification's verdict", () => {
  const urn = "urn:pulumi:arc::keyless::keyless:arc:ArcFleet$keyless:arc:ArcServer$azure-native:hybridcompute:MachineRunCommand::arc-arc-lnx-01-verify";
  it("fails pulumi up on a FAIL, names the step and says how to run the check again", () => {
    expect(() => verificationVerdict("arc-lnx-01", urn, { exitCode: 1, output: "PASS himds: token for https://storage.azure.com/\n", error: "WAIT 10 s: HTTP 403, the role assignment may still be propagating\nFAIL storage: HTTP 403 on https://st/arcupload/arc-lnx-01/keyless-verify.txt: no role\n", executionState: "Failed" })).toThrow(
      `Arc verification failed on arc-lnx-01: FAIL storage: HTTP 403 on https://st/arcupload/arc-lnx-01/keyless-verify.txt: no role. Fix the cause (docs/arc.md, "Reading the verification result"), then run the check again: pulumi up --replace '${urn}'`,
    );
    expect(() => verificationVerdict("arc-lnx-01", urn, { executionState: "TimedOut" })).toThrow(/^Arc verification failed on arc-lnx-01: exit code unknown, state TimedOut\./);
  });

  it("passes the result through when the script passed; unknown until it ran", () => {
    expect(verificationVerdict("arc-lnx-01", urn, { exitCode: 0, output: "keyless-verify: OK\n", error: "" })).toEqual({ exitCode: 0, output: "keyless-verify: OK\n", error: "" });
    expect(verificationVerdict("arc-lnx-01", urn, undefined, true)).toBeUndefined();
  });

  it("warns, and does not pass, when pulumi up gets no result back", () => {
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    try {
      expect(verificationVerdict("arc-lnx-01", urn, undefined, false)).toBeUndefined();
      expect(warn.mock.calls.map((c) => c[0])).toEqual([
        `Arc verification on arc-lnx-01: Azure returned no result for the run command, so whether the check passed is unknown; read it with az connectedmachine run-command show --machine-name arc-lnx-01 --resource-group <arc group> --name keyless-verify-identity, or run it again: pulumi up --replace '${urn}'`,
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it("can be run again with pulumi up --replace: the old run command of the same name goes first", async () => {
    const p = await plan(false);
    for (const v of ofType(p, "azure-native:hybridcompute:MachineRunCommand")) expect(v.deleteBeforeReplace, v.name).toBe(true);
  });
});
