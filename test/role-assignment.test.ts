import { UserAssignedIdentity } from "@pulumi/azure-native/managedidentity/userAssignedIdentity";
import { Provider } from "@pulumi/azure-native/provider";
import { BlobContainer } from "@pulumi/azure-native/storage/blobContainer";
import { StorageAccount } from "@pulumi/azure-native/storage/storageAccount";
import { describe, expect, it } from "vitest";
import { grantRole, subscriptionOf } from "../components/role-assignment";
import { UserIdentity } from "../components/user-identity";
import { roleAssignmentName } from "../lib/naming";
import { UNKNOWN } from "../tools/plan/engine";
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

  // The name is the principal's apply with the scope's inside (components/role-assignment.ts).
  describe("the name's dependencies", () => {
    const program = () => {
      const provider = new Provider("azure", { location: "japaneast" });
      const account = new StorageAccount("sa", { accountName: "stkeyless", resourceGroupName: "rg-a", kind: "StorageV2", sku: { name: "Standard_LRS" } }, { provider });
      const container = new BlobContainer("c", { accountName: account.name, resourceGroupName: "rg-a", containerName: "uploads" }, { provider });
      const identity = new UserAssignedIdentity("id", { resourceName: "id-a", resourceGroupName: "rg-a" }, { provider });
      grantRole("g", { scope: container.id, principalId: identity.principalId, principalType: "ServicePrincipal", role: "Storage Blob Data Contributor" }, { provider });
    };
    const urns = (plan: Awaited<ReturnType<typeof planInline>>) => ({
      container: resource(plan, "azure-native:storage:BlobContainer", "c").urn,
      identity: resource(plan, "azure-native:managedidentity:UserAssignedIdentity", "id").urn,
      grant: resource(plan, "azure-native:authorization:RoleAssignment", "g"),
    });

    it("in pulumi up, name the scope's resource and the principal's, and the name is the UUID of both", async () => {
      const plan = await planInline(program, "test", { preview: false });
      const { container, identity, grant } = urns(plan);
      expect(grant.propertyDependencies).toMatchObject({ roleAssignmentName: [container, identity].sort(), scope: [container], principalId: [identity] });
      expect(grant.inputs.roleAssignmentName).toBe(roleAssignmentName(String(grant.inputs.scope), String(grant.inputs.principalId), "ba92f5b4-2d11-453d-a403-e96b0029c9fe"));
      expect([...grant.dependencies].sort()).toEqual([container, identity].sort());
    });

    it("in a preview with the principal unknown, the name is unknown and the grant still waits for its scope", async () => {
      const plan = await planInline(program, "test", { preview: true, previewUnknowns: true });
      const { container, identity, grant } = urns(plan);
      expect(grant.inputs.roleAssignmentName).toBe(UNKNOWN);
      expect(grant.propertyDependencies).toMatchObject({ roleAssignmentName: [identity], scope: [container], principalId: [identity] });
      expect([...grant.dependencies].sort()).toEqual([container, identity].sort());
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
