import * as pulumi from "@pulumi/pulumi";
import { Vault } from "@pulumi/azure-native/keyvault/vault";
import { CreateMode, SkuFamily, SkuName } from "@pulumi/azure-native/types/enums/keyvault";

export interface KeyVaultArgs {
  /** Globally unique vault name (3-24). */
  readonly vaultName: pulumi.Input<string>;
  /** Resource group that holds it. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  readonly location: string;
  /** Entra tenant that authenticates callers. */
  readonly tenantId: pulumi.Input<string>;
  /** Purge protection; irreversible once on. */
  readonly purgeProtection: boolean;
  /** Soft delete retention, 7-90 days; set when the vault is created, never changed afterwards (Azure refuses it). */
  readonly softDeleteRetentionDays: number;
  /** Enabled or Disabled. */
  readonly publicNetworkAccess: "Enabled" | "Disabled";
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** `recover`: bring back the soft-deleted vault of this name instead of creating a new one. */
  readonly createMode?: "default" | "recover";
}

/** A Key Vault authorized by Azure RBAC only (no access policies), soft delete always on. */
export class KeyVault extends pulumi.ComponentResource {
  /** ARM id: the scope of vault-level grants. */
  public readonly vaultId: pulumi.Output<string>;
  /** Vault name. */
  public readonly vaultName: pulumi.Output<string>;
  /** https://<vault>.vault.azure.net/ */
  public readonly vaultUri: pulumi.Output<string>;

  constructor(name: string, args: KeyVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:keyvault:KeyVault", name, {}, opts);
    const vault = new Vault(
      `${name}-kv`,
      {
        vaultName: args.vaultName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        properties: {
          tenantId: args.tenantId,
          // Only sent to recover: a destroyed vault stays soft-deleted, its name taken, for the retention
          // period (azure-docs key-vault/general/key-vault-recovery.md); ARM's createMode "recover" brings it
          // back. Recovery does not bring back its role assignments: the grants are created again.
          createMode: args.createMode === "recover" ? CreateMode.Recover : undefined,
          sku: { family: SkuFamily.A, name: SkuName.Standard },
          enableRbacAuthorization: true,
          accessPolicies: [],
          enableSoftDelete: true,
          softDeleteRetentionInDays: args.softDeleteRetentionDays,
          // ARM refuses `false` here ("the property does not accept false as its value"): omit it
          // when purge protection is off.
          enablePurgeProtection: args.purgeProtection ? true : undefined,
          publicNetworkAccess: args.publicNetworkAccess,
          enabledForDeployment: false,
          enabledForDiskEncryption: false,
          enabledForTemplateDeployment: false,
        },
        tags: { ...args.tags },
      },
      {
        parent: this,
        dependsOn: opts?.dependsOn,
        // The retention interval is fixed when the vault is created: "Once set, the retention policy
        // interval cannot be changed" (azure-docs key-vault/general/soft-delete-overview.md); ARM refuses an
        // update that changes it, so a later config change would fail every `pulumi up`. Kept at its first value.
        ignoreChanges: ["properties.softDeleteRetentionInDays"],
      },
    );
    this.vaultId = vault.id;
    this.vaultName = vault.name;
    this.vaultUri = vault.properties.apply((p) => p.vaultUri ?? "");
    this.registerOutputs({ vaultId: this.vaultId, vaultName: this.vaultName, vaultUri: this.vaultUri });
  }
}
