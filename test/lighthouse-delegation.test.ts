import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Provider } from "@pulumi/azure-native/provider";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { LighthouseDelegation, registrationAssignmentGuid, registrationDefinitionGuid } from "../components/lighthouse-delegation";
import { mockSubscriptionId, mockTenantId } from "../tools/plan/mocks";
import { planInline, planStack, resource, root, transitiveDependencies } from "./support/harness";

// The Lighthouse delegation of the gallery's resource group (the hand-made cross-tenant gallery flow, method 2), as the dev stack plans it.

const defType = "azure-native:managedservices:RegistrationDefinition";
const asgType = "azure-native:managedservices:RegistrationAssignment";
const managingTenant = "11111111-1111-4111-8111-111111111111";
const consumers = "22222222-2222-4222-8222-222222222222";
const operators = "44444444-4444-4444-8444-444444444444";
const groupId = `/subscriptions/${mockSubscriptionId}/resourceGroups/rg-keyless-dev-gallery`;

describe("LighthouseDelegation in the dev stack", async () => {
  const plan = await planStack("dev");
  const definition = resource(plan, defType, "gallery-delegation-definition");
  const assignment = resource(plan, asgType, "gallery-delegation-assignment");
  const definitionGuid = registrationDefinitionGuid(mockSubscriptionId, "rg-keyless-dev-gallery", managingTenant);

  it("defines the offer at subscription scope for the managing tenant, with bare role GUIDs", () => {
    expect(definition.inputs).toEqual({
      scope: `/subscriptions/${mockSubscriptionId}`,
      registrationDefinitionId: definitionGuid,
      properties: {
        registrationDefinitionName: "Shared images",
        managedByTenantId: managingTenant,
        authorizations: [
          { principalId: consumers, principalIdDisplayName: "Image consumers", roleDefinitionId: "acdd72a7-3385-48ef-bd42-f606fba81ae7" }, // Reader
          { principalId: operators, principalIdDisplayName: "Image readers", roleDefinitionId: "cf7c76d2-98a3-4358-a134-615aa78bf44d" }, // Compute Gallery Image Reader
          // allowRemovalByManagingTenant: Managed Services Registration assignment Delete Role, as the hand-made flow adds it.
          { principalId: consumers, principalIdDisplayName: "Image consumers", roleDefinitionId: "91c1777a-f3dc-4fae-b103-61d183457e46" },
        ],
      },
    });
  });

  it("assigns it on the gallery's resource group only, referencing the definition's full id", () => {
    expect(assignment.inputs).toEqual({
      scope: groupId,
      registrationAssignmentId: registrationAssignmentGuid(definitionGuid, "rg-keyless-dev-gallery"),
      properties: { registrationDefinitionId: `/subscriptions/${mockSubscriptionId}/providers/Microsoft.ManagedServices/registrationDefinitions/${definitionGuid}` },
    });
  });

  it("creates the assignment after the definition, so destroy removes it first", () => {
    expect(assignment.dependencies).toContain(definition.urn);
    expect(transitiveDependencies(plan, definition.urn).has(assignment.urn)).toBe(false);
  });

  it("waits for Microsoft.ManagedServices to be registered", () => {
    const reg = resource(plan, "command:local:Command", "resource-providers-microsoft.managedservices");
    expect(definition.dependencies).toContain(reg.urn);
  });

  it("keeps both ids across runs (a re-run updates in place) and changes them only with their inputs", async () => {
    const again = await planStack("dev");
    expect(resource(again, defType, "gallery-delegation-definition").inputs.registrationDefinitionId).toBe(definitionGuid);
    expect(resource(again, asgType, "gallery-delegation-assignment").inputs.registrationAssignmentId).toBe(assignment.inputs.registrationAssignmentId);
    expect(definitionGuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(registrationDefinitionGuid(mockSubscriptionId, "rg-keyless-dev-gallery", managingTenant.toUpperCase())).toBe(definitionGuid);
    expect(registrationDefinitionGuid(mockSubscriptionId, "rg-keyless-prod-gallery", managingTenant)).not.toBe(definitionGuid);
  });
});

describe("LighthouseDelegation options", () => {
  const base = {
    subscriptionId: mockSubscriptionId,
    customerTenantId: mockTenantId,
    scope: groupId,
    scopeName: "rg-keyless-dev-gallery",
    offerName: "Shared images",
    managedByTenantId: managingTenant,
    authorizations: [{ principalId: consumers, principalIdDisplayName: "Image consumers", role: "User Access Administrator" as const, delegatedRoles: ["Virtual Machine Contributor" as const] }],
    eligibleAuthorizations: [{ principalId: operators, principalIdDisplayName: "JIT", role: "Contributor" as const, maximumActivationDuration: "PT2H", multiFactorAuth: "Azure" as const }],
    allowRemovalByManagingTenant: false,
  };

  it("passes delegatedRoleDefinitionIds and just-in-time policies; no delete role unless asked", async () => {
    const plan = await planInline(() => {
      new LighthouseDelegation("lh", base, { providers: [new Provider("azure", { location: "japaneast" })] });
    });
    const props = resource(plan, defType, "lh-definition").inputs.properties as Record<string, unknown>;
    expect(props.authorizations).toEqual([
      { principalId: consumers, principalIdDisplayName: "Image consumers", roleDefinitionId: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", delegatedRoleDefinitionIds: ["9980e02c-c2be-4d73-94e8-173b1dc7cf3c"] },
    ]);
    expect(props.eligibleAuthorizations).toEqual([
      { principalId: operators, principalIdDisplayName: "JIT", roleDefinitionId: "b24988ac-6180-42a0-ab88-20f7382dd24c", justInTimeAccessPolicy: { multiFactorAuthProvider: "Azure", maximumActivationDuration: "PT2H" } },
    ]);
  });

  it("refuses the signed-in tenant as managing tenant before the definition is sent", async () => {
    // The failure surfaces as the definition's input failing to serialize, which the Pulumi language
    // host reports as a program error; here it arrives as an unhandled rejection, captured for the test.
    const seen: string[] = [];
    const previous = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", (e) => seen.push(String(e)));
    try {
      const plan = await planInline(() => {
        new LighthouseDelegation("lh", { ...base, managedByTenantId: mockTenantId }, { providers: [new Provider("azure", { location: "japaneast" })] });
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(plan.resources.filter((r) => r.type === defType || r.type === asgType)).toEqual([]);
    } finally {
      process.removeAllListeners("unhandledRejection");
      for (const l of previous) process.on("unhandledRejection", l);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toContain(`keyless:gallery.sharing.lighthouse.managedByTenantId: "${mockTenantId}" is the tenant this stack deploys into`);
  });
});

describe("rejected stacks through the CLI: one message, exit 1, nothing registered", () => {
  const devFile = parse(readFileSync(join(root, "Pulumi.dev.yaml"), "utf8"));
  function planWith(mutate: (config: Record<string, any>) => void) {
    const doc = structuredClone(devFile);
    mutate(doc.config);
    const file = join(mkdtempSync(join(tmpdir(), "keyless-gallery-")), "Pulumi.gal.yaml");
    writeFileSync(file, stringify(doc));
    const r = spawnSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "tools/plan/cli.ts"), "--config-file", file, "--stack", "gal", "--json"], { cwd: root, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, lines: r.stderr.trim().split("\n") };
  }

  it.each<[string, (c: Record<string, any>) => void, string]>([
    ["Owner", (c) => (c["keyless:gallery"].sharing.lighthouse.authorizations[1].role = "Owner"), "authorizations[1].role: \"Owner\" is refused by Azure Lighthouse"],
    ["Storage Blob Data Reader", (c) => (c["keyless:gallery"].sharing.lighthouse.authorizations[0].role = "Storage Blob Data Reader"), "has DataActions"],
    ["malformed tenant", (c) => (c["keyless:gallery"].sharing.lighthouse.managedByTenantId = "not-a-tenant"), 'managedByTenantId: "not-a-tenant" must be a GUID'],
    ["own tenant", (c) => (c["azure-native:tenantId"] = managingTenant), "must be another tenant than the stack's own"],
  ])("%s", (_, mutate, fragment) => {
    const r = planWith(mutate);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.lines[0]).toMatch(/invalid configuration/);
    expect(r.lines.slice(1)).toHaveLength(1);
    expect(r.lines[1]).toContain(fragment);
  });
});
