import * as pulumi from "@pulumi/pulumi";
import { Provider } from "@pulumi/azure-native/provider";
import { describe, expect, it } from "vitest";
import { KeyVault } from "../components/key-vault";
import { planInline, planProgram, resource, stackConfig, withConfig } from "./support/harness";

// A destroyed stack's vault stays soft-deleted, its name taken, for the retention period:
// keyless:keyVault.createMode "recover" brings it back (ARM's Vault properties.createMode).

describe("key vault createMode", () => {
  it("sends no createMode by default (a plain create or update)", async () => {
    const plan = await planProgram(stackConfig("prod").values, { stack: "prod" });
    expect(resource(plan, "azure-native:keyvault:Vault", "vault-kv").inputs.properties).not.toHaveProperty("createMode");
  });

  it("recover: asks ARM to recover the soft-deleted vault, the rest of the vault unchanged", async () => {
    const c = stackConfig("prod");
    const keyVault = JSON.parse(c.values["keyless:keyVault"] ?? "{}");
    const plan = await planProgram(withConfig(c.values, { "keyless:keyVault": { ...keyVault, createMode: "recover" } }), { stack: "prod" });
    const props = resource(plan, "azure-native:keyvault:Vault", "vault-kv").inputs.properties as Record<string, unknown>;
    expect(props).toMatchObject({ createMode: "recover", enableRbacAuthorization: true, enableSoftDelete: true, enablePurgeProtection: true });
  });
});

describe("key vault soft delete retention", () => {
  it("is set when the vault is created and never sent as a change (Azure refuses to change it)", async () => {
    const seen: Record<string, pulumi.CustomResourceOptions> = {};
    await planInline(() => {
      pulumi.runtime.registerStackTransformation((args) => {
        seen[args.name] = args.opts;
        return undefined;
      });
      new KeyVault(
        "kv",
        { vaultName: "kv-keyless-test", resourceGroupName: "rg", location: "japaneast", tenantId: "t", purgeProtection: false, softDeleteRetentionDays: 30, publicNetworkAccess: "Enabled", tags: {} },
        { providers: [new Provider("azure", { location: "japaneast" })] },
      );
    });
    expect(seen["kv-kv"]?.ignoreChanges).toEqual(["properties.softDeleteRetentionInDays"]);
  });
});
