import { Provider } from "@pulumi/azure-native/provider";
import { describe, expect, it } from "vitest";
import { grantRole, subscriptionOf } from "../components/role-assignment";
import { UserIdentity } from "../components/user-identity";
import { roleAssignmentName } from "../lib/naming";
import { mockGuid } from "../tools/plan/mocks";
import { planInline, resource } from "./support/harness";

const sub = "5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b";
const vault = `/subscriptions/${sub}/resourceGroups/rg-a/providers/Microsoft.KeyVault/vaults/kv1`;
const registry = `/subscriptions/${sub}/resourceGroups/rg-a/providers/Microsoft.ContainerRegistry/registries/cr1`;

describe("grantRole, the one way to grant", () => {
  it("names the assignment from (scope, principal, role), pins principalType and the narrow scope", async () => {
    const plan = await planInline(() => {
      const provider = new Provider("azure", { location: "japaneast" });
      grantRole("kv-read", { scope: vault, principalId: "11111111-2222-4333-8444-555555555555", principalType: "ServicePrincipal", role: "Key Vault Secrets User" }, { provider });
    });
    const ra = resource(plan, "azure-native:authorization:RoleAssignment", "kv-read");
    expect(ra.inputs).toEqual({
      roleAssignmentName: roleAssignmentName(vault, "11111111-2222-4333-8444-555555555555", "4633458b-17de-408a-b874-0445c86b69e6"),
      scope: vault,
      principalId: "11111111-2222-4333-8444-555555555555",
      principalType: "ServicePrincipal",
      roleDefinitionId: `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`,
    });
  });

  it("refuses a scope outside a subscription", () => {
    expect(() => subscriptionOf("/providers/Microsoft.Management/managementGroups/mg")).toThrow(
      'role grant scope "/providers/Microsoft.Management/managementGroups/mg" is not inside a subscription',
    );
  });
});

describe("UserIdentity", () => {
  it("creates the identity and its grants keyed by stable names, each to the identity's principal", async () => {
    const plan = await planInline(() => {
      const provider = new Provider("azure", { location: "japaneast" });
      new UserIdentity(
        "vm",
        {
          identityName: "id-keyless-dev-vm",
          resourceGroupName: "rg-a",
          location: "japaneast",
          tags: { workload: "keyless" },
          grants: { "acr-pull": { role: "AcrPull", scope: registry }, "kv-secrets": { role: "Key Vault Secrets User", scope: vault } },
        },
        { providers: [provider] },
      );
    });
    const id = resource(plan, "azure-native:managedidentity:UserAssignedIdentity", "vm-id");
    expect(id.inputs).toMatchObject({ resourceName: "id-keyless-dev-vm", resourceGroupName: "rg-a", location: "japaneast" });
    const principal = mockGuid("principal", `/subscriptions/${sub}/resourceGroups/rg-a/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-keyless-dev-vm`);
    const pull = resource(plan, "azure-native:authorization:RoleAssignment", "vm-acr-pull");
    expect(pull.inputs).toMatchObject({ scope: registry, principalId: principal, principalType: "ServicePrincipal" });
    expect(String(pull.inputs.roleDefinitionId)).toMatch(/\/7f951dda-4ed3-4680-a7ca-43fe172d538d$/);
    expect(pull.parent).toMatch(/keyless:identity:UserIdentity::vm$/);
    expect(resource(plan, "azure-native:authorization:RoleAssignment", "vm-kv-secrets").inputs.scope).toBe(vault);
  });
});

describe("secrets in the plan", () => {
  it("show as [secret] in inputs and outputs, never in clear", async () => {
    const { secret } = await import("@pulumi/pulumi");
    const plan = await planInline(() => {
      const provider = new Provider("azure", { location: "japaneast" });
      new UserIdentity("s", { identityName: "id-s", resourceGroupName: "rg-a", location: "japaneast", tags: { note: secret("hush-hush") as unknown as string } }, { providers: [provider] });
    });
    const id = resource(plan, "azure-native:managedidentity:UserAssignedIdentity", "s-id");
    expect(id.inputs.tags).toEqual({ note: "[secret]" });
    expect(JSON.stringify(id.outputs.tags)).toContain("[secret]");
    expect(JSON.stringify(plan)).not.toContain("hush-hush");
  });
});
