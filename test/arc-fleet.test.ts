import { describe, expect, it } from "vitest";
import { arcScripts } from "../components/arc-server";
import type { Plan } from "../tools/plan/engine";
import { machineLookups, mockSubscriptionId } from "../tools/plan/mocks";
import { readStackConfig, secretPlaceholder } from "../tools/plan/stack-file";
import { ofType, planProgram, resource, root } from "./support/harness";

// The example fleet (two Linux servers onboarded over SSH, one Windows server adopted) planned with
// the real program under mocks: onboarding, principal lookup, grants, verification, no secret in clear.

const fleet = readStackConfig(`${root}/stacks/arc-fleet.yaml`);
const plan = (preview: boolean): Promise<Plan> => planProgram(fleet.values, { stack: "arc", secretKeys: fleet.secretKeys, preview, allowPlaceholders: true });
const sub = `/subscriptions/${mockSubscriptionId}`;
const account = `${sub}/resourceGroups/rg-keyless-arc-shared/providers/Microsoft.Storage/storageAccounts`;
const container = (name: string) => expect.stringMatching(new RegExp(`^${account}/st\\w+/blobServices/default/containers/${name}$`));
const vault = expect.stringMatching(new RegExp(`^${sub}/resourceGroups/rg-keyless-arc-shared/providers/Microsoft.KeyVault/vaults/kv\\w+$`));

describe("arc fleet, as pulumi up would run it", () => {
  it("onboards the ssh servers with the secret on stdin only, never in a command line", async () => {
    const p = await plan(false);
    const commands = ofType(p, "command:remote:Command");
    expect(commands.map((c) => c.name).sort()).toEqual(["arc-arc-lnx-01-onboard", "arc-arc-lnx-02-onboard"]);
    for (const c of commands) {
      expect(c.inputs.stdin).toBe("[secret]");
      expect(c.inputs.connection).toBe("[secret]");
      for (const k of ["create", "delete"] as const) {
        const cmd = c.inputs[k] as string;
        expect(cmd).not.toBe("[secret]"); // shown in clear because it holds no secret
        expect(cmd).not.toContain(secretPlaceholder);
        expect(cmd).toContain(arcScripts.onboardLinux);
      }
      expect(c.inputs.create).toContain(`arc-onboard connect 'sp-id=3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f'`);
      expect(c.inputs.create).toContain("'resource-group=rg-keyless-arc-arc' 'location=japaneast'");
      expect(c.inputs.delete).toMatch(/arc-onboard disconnect 'sp-id=3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f'$/);
    }
    expect(resource(p, "command:remote:Command", "arc-arc-lnx-02-onboard").inputs.create).toContain("'resource-name=arc-lnx-02' 'tags=environment=arc,managed-by=pulumi,owner=platform,workload=keyless' 'users=azureuser deploy'");
    expect(JSON.stringify(p)).not.toContain(secretPlaceholder);
  });

  it("grants each machine's identity exactly the data roles on the container and vault scopes", async () => {
    const p = await plan(false);
    const grants = ofType(p, "azure-native:authorization:RoleAssignment").filter((g) => g.name.startsWith("arc-"));
    expect(grants).toHaveLength(9);
    for (const server of ["arc-lnx-01", "arc-lnx-02", "arc-win-01"]) {
      const group = server === "arc-win-01" ? "rg-onprem-arc" : "rg-keyless-arc-arc";
      const principal = p.outputs.arc as { servers: Record<string, { principalId: string; machineId: string }> };
      expect(principal.servers[server].machineId).toBe(`${sub}/resourceGroups/${group}/providers/Microsoft.HybridCompute/machines/${server}`);
      const principalId = principal.servers[server].principalId;
      expect(principalId).toMatch(/^[0-9a-f-]{36}$/);
      const mine = (n: string) => resource(p, "azure-native:authorization:RoleAssignment", `arc-${server}-${n}`).inputs;
      expect(mine("blob-arcupload")).toMatchObject({ scope: container("arcupload"), principalId, principalType: "ServicePrincipal", roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe` });
      expect(mine("blob-arclogs")).toMatchObject({ scope: container("arclogs"), principalId, principalType: "ServicePrincipal" });
      expect(mine("kv-secrets")).toMatchObject({ scope: vault, principalId, principalType: "ServicePrincipal", roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6` });
    }
  });

  it("verifies on each host through an ARM run command that waits for the grants and the probe secret", async () => {
    const p = await plan(false);
    const probe = resource(p, "azure-native:keyvault:Secret", "arc-probe");
    expect(probe.inputs).toMatchObject({ secretName: "keyless-arc-probe", properties: { value: "keyless-probe" } });
    for (const server of ["arc-lnx-01", "arc-lnx-02", "arc-win-01"]) {
      const v = resource(p, "azure-native:hybridcompute:MachineRunCommand", `arc-${server}-verify`);
      const linux = server !== "arc-win-01";
      expect(v.inputs).toMatchObject({ machineName: server, runCommandName: "keyless-verify-identity", asyncExecution: false, source: { script: linux ? arcScripts.verifyLinux : arcScripts.verifyWindows } });
      const params = Object.fromEntries((v.inputs.parameters as { name: string; value: string }[]).map((x) => [x.name, x.value]));
      expect(params).toEqual(
        linux
          ? { STORAGE_ACCOUNT_URL: expect.stringMatching(/^https:\/\/st\w+\.blob\.core\.windows\.net\/$/), CONTAINER: "arcupload", VAULT_URI: expect.stringMatching(/^https:\/\/kv\w+\.vault\.azure\.net\/$/), SECRET_NAME: "keyless-arc-probe", EXPECTED_SECRET: "keyless-probe", BLOB_NAME: `keyless-verify/${server}.txt` }
          : { StorageAccountUrl: expect.any(String), Container: "arcupload", VaultUri: expect.any(String), SecretName: "keyless-arc-probe", ExpectedSecret: "keyless-probe", BlobName: `keyless-verify/${server}.txt` },
      );
      const grantUrns = ofType(p, "azure-native:authorization:RoleAssignment").filter((g) => g.name.startsWith(`arc-${server}-`)).map((g) => g.urn);
      expect(v.dependencies).toEqual(expect.arrayContaining([...grantUrns, probe.urn]));
    }
  });
});

describe("arc fleet at the first preview of a brand-new stack", () => {
  it("does not look up machines that are not onboarded yet; adopts the existing one at once", async () => {
    machineLookups.length = 0;
    const p = await plan(true);
    expect(machineLookups).toEqual([`${sub}/resourceGroups/rg-onprem-arc/providers/Microsoft.HybridCompute/machines/arc-win-01`]);
    // The grants of the ssh servers are planned; their principal is unknown until the agent connects.
    expect(ofType(p, "azure-native:authorization:RoleAssignment").filter((g) => g.name.startsWith("arc-arc-lnx-01-"))).toHaveLength(3);
    expect(ofType(p, "azure-native:hybridcompute:MachineRunCommand")).toHaveLength(3);
  });

  it("registers the Arc resource providers", async () => {
    const p = await plan(true);
    const registered = ofType(p, "command:local:Command").map((c) => c.name);
    expect(registered).toEqual(expect.arrayContaining(["resource-providers-microsoft.hybridcompute", "resource-providers-microsoft.guestconfiguration", "resource-providers-microsoft.hybridconnectivity"]));
  });
});
