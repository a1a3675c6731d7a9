import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { requireDeployer } from "../parts/platform";
import { parse, stringify } from "yaml";
import type { Plan } from "../tools/plan/engine";
import { grantRows } from "../tools/plan/grants";
import { mockDeployerObjectId, mockSubscriptionId, mockTenantId } from "../tools/plan/mocks";
import { ofType, planProgram, planStack, resource, root, stackConfig } from "./support/harness";

// The shared platform as `pulumi up -s dev` / `-s prod` would register it: exact security inputs.

let dev: Plan;
let prod: Plan;
beforeAll(async () => {
  dev = await planStack("dev");
  prod = await planStack("prod");
});

const rg = `/subscriptions/${mockSubscriptionId}/resourceGroups/rg-keyless-dev-shared`;

describe("storage account", () => {
  it("accepts Entra ID tokens only: no shared key, no public blobs, HTTPS with TLS 1.2", () => {
    const st = resource(dev, "azure-native:storage:StorageAccount", "storage-st");
    expect(st.inputs).toMatchObject({
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      defaultToOAuthAuthentication: true,
      allowCrossTenantReplication: false,
      resourceGroupName: "rg-keyless-dev-shared",
      location: "japaneast",
    });
    expect(st.inputs.accountName).toMatch(/^stkeylessdev[a-z0-9]{4}$/);
  });

  it("keeps deleted blobs and containers restorable", () => {
    const svc = resource(dev, "azure-native:storage:BlobServiceProperties", "storage-blob");
    expect(svc.inputs).toMatchObject({
      blobServicesName: "default",
      deleteRetentionPolicy: { enabled: true, days: 7 },
      containerDeleteRetentionPolicy: { enabled: true, days: 7 },
    });
  });

  it("creates each configured container private", () => {
    const c = resource(dev, "azure-native:storage:BlobContainer", "storage-arcupload");
    expect(c.inputs).toMatchObject({ containerName: "arcupload", publicAccess: "None" });
  });
});

describe("key vault", () => {
  it("authorizes with Azure RBAC only, soft delete on, purge protection omitted in dev", () => {
    const kv = resource(dev, "azure-native:keyvault:Vault", "vault-kv");
    const p = kv.inputs.properties as Record<string, unknown>;
    expect(p).toMatchObject({
      enableRbacAuthorization: true,
      accessPolicies: [],
      enableSoftDelete: true,
      softDeleteRetentionInDays: 7,
      tenantId: mockTenantId,
      sku: { family: "A", name: "standard" },
      publicNetworkAccess: "Enabled",
      enabledForDeployment: false,
      enabledForTemplateDeployment: false,
    });
    // ARM refuses enablePurgeProtection: false, so it must be absent rather than false.
    expect(p).not.toHaveProperty("enablePurgeProtection");
  });

  it("has purge protection and 90-day retention in prod", () => {
    const p = resource(prod, "azure-native:keyvault:Vault", "vault-kv").inputs.properties as Record<string, unknown>;
    expect(p.enablePurgeProtection).toBe(true);
    expect(p.softDeleteRetentionInDays).toBe(90);
  });
});

describe("container registry", () => {
  it("has no admin user and no anonymous pull", () => {
    expect(resource(dev, "azure-native:containerregistry:Registry", "registry-cr").inputs).toMatchObject({
      sku: { name: "Basic" },
      adminUserEnabled: false,
      anonymousPullEnabled: false,
    });
    expect(resource(prod, "azure-native:containerregistry:Registry", "registry-cr").inputs).toMatchObject({ sku: { name: "Standard" } });
  });
});

describe("providers and protection", () => {
  it("gives every Azure and command resource an explicit provider", () => {
    for (const r of dev.resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"))) {
      expect(r.provider, r.urn).toMatch(/[:$]pulumi:providers:(azure-native|command|kubernetes|azuread)::/);
    }
  });

  it("registers the platform's resource providers in the deploying subscription, and the platform waits for them", () => {
    const cmds = ofType(dev, "command:local:Command").filter((c) => c.name.startsWith("resource-providers-"));
    // Compute and Network come from keyless:vm, enabled in the dev stack; the three Arc ones from keyless:arc.
    expect(cmds.map((c) => c.name).sort()).toEqual([
      "resource-providers-microsoft.compute",
      "resource-providers-microsoft.containerregistry",
      "resource-providers-microsoft.containerservice",
      "resource-providers-microsoft.guestconfiguration",
      "resource-providers-microsoft.hybridcompute",
      "resource-providers-microsoft.hybridconnectivity",
      "resource-providers-microsoft.keyvault",
      "resource-providers-microsoft.managedidentity",
      "resource-providers-microsoft.managedservices",
      "resource-providers-microsoft.network",
      "resource-providers-microsoft.storage",
    ]);
    const kv = resource(dev, "azure-native:keyvault:Vault", "vault-kv");
    expect(resource(dev, "command:local:Command", "resource-providers-microsoft.keyvault").inputs.create).toBe(
      `az provider register --namespace Microsoft.KeyVault --subscription ${mockSubscriptionId} --wait`,
    );
    expect(kv.dependencies).toContain(cmds.find((c) => c.name.endsWith("keyvault"))?.urn);
  });

  it("protects stateful resources in prod only", () => {
    const stateful = ["azure-native:storage:StorageAccount", "azure-native:keyvault:Vault", "azure-native:containerregistry:Registry"];
    for (const t of stateful) {
      expect(ofType(prod, t)[0].protect, t).toBe(true);
      expect(ofType(dev, t)[0].protect, t).toBe(false);
    }
  });

  it("tags every taggable resource with workload, environment, managed-by and the user's tags", () => {
    for (const r of dev.resources.filter((x) => x.type.startsWith("azure-native:") && "tags" in x.inputs)) {
      expect(r.inputs.tags, r.urn).toEqual({ owner: "platform", workload: "keyless", environment: "dev", "managed-by": "pulumi" });
    }
    expect(resource(dev, "azure-native:resources:ResourceGroup", "shared-rg").inputs.tags).toBeDefined();
  });

  it("exports the endpoints a workload needs", () => {
    expect(dev.outputs).toMatchObject({
      resourceGroups: { shared: "rg-keyless-dev-shared" },
      storage: { containerIds: { arcupload: expect.stringContaining(`${rg}/providers/Microsoft.Storage/storageAccounts/`) } },
      keyVault: { uri: expect.stringMatching(/^https:\/\/kvkeylessdev[a-z0-9]{4}\.vault\.azure\.net\/$/) },
      registry: { loginServer: expect.stringMatching(/^crkeylessdev[a-z0-9]{4}\.azurecr\.io$/) },
    });
  });
});

describe("keyless:deployerObjectId", () => {
  const dev = stackConfig("dev");
  const other = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";

  it("runs as usual when the signed-in identity is the pinned deployer (ids compare case-insensitively)", async () => {
    const pinned = await planProgram({ ...dev.values, "keyless:deployerObjectId": mockDeployerObjectId.toUpperCase() }, { secretKeys: dev.secretKeys });
    const plain = await planStack("dev");
    expect(pinned.resources.map((r) => r.urn)).toEqual(plain.resources.map((r) => r.urn));
  });

  it("pulumi up by another identity stops, naming both identities and nothing else; a preview warns and goes on", () => {
    const message = `keyless:deployerObjectId: "${other}" deploys this stack, but pulumi is signed in as "${mockDeployerObjectId}"; the deployer's own role assignments go to ${other}, so another identity could not use them. Sign in as ${other}, or set keyless:deployerObjectId to the stack's new deployer`;
    expect(() => requireDeployer(other, mockDeployerObjectId, false)).toThrow(pulumi.RunError);
    expect(() => requireDeployer(other, mockDeployerObjectId, false)).toThrow(message);
    const warn = vi.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    try {
      expect(() => requireDeployer(other, mockDeployerObjectId, true)).not.toThrow();
      expect(() => requireDeployer(other.toUpperCase(), other, false)).not.toThrow();
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  it("a preview by another identity (the workflows' read-only preview identity) goes on with a warning and shows the pinned deployer's grants", async () => {
    const plan = await planProgram({ ...dev.values, "keyless:deployerObjectId": other }, { secretKeys: dev.secretKeys, signedInObjectId: mockDeployerObjectId });
    expect(plan.warnings).toContain(
      `keyless:deployerObjectId: pulumi is signed in as "${mockDeployerObjectId}", not as the stack's deployer "${other}"; this preview shows the deployer's grants, and pulumi up runs only as ${other}`,
    );
    // The deployer's own grants and the gallery app's owner: the pinned identity, not the one previewing.
    for (const name of ["aks-deployer-cluster-admin", "arc-deployer-secrets"]) expect(resource(plan, "azure-native:authorization:RoleAssignment", name).inputs.principalId, name).toBe(other);
    expect(resource(plan, "azuread:index/application:Application", "gallery-app-app").inputs.owners).toEqual([other]);
    expect(grantRows(plan).find((g) => g.resource === "aks-deployer-cluster-admin")?.holder).toBe("the deploying principal");
  });

  it("offline, the plan runs as the pinned deployer itself: no warning, through the CLI", () => {
    const doc = parse(readFileSync(join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    doc.config["keyless:deployerObjectId"] = other;
    const file = join(mkdtempSync(join(tmpdir(), "keyless-deployer-")), "Pulumi.pin.yaml");
    writeFileSync(file, stringify(doc));
    const r = spawnSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "tools/plan/cli.ts"), "--config-file", file, "--stack", "pin", "--json"], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain("keyless:deployerObjectId");
    const plan = JSON.parse(r.stdout) as { grants: { resource: string; holder: string }[] };
    expect(plan.grants.find((g) => g.resource === "aks-deployer-cluster-admin")?.holder).toBe("the deploying principal");
  });
});
