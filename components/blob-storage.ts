import * as pulumi from "@pulumi/pulumi";
import { StorageAccount } from "@pulumi/azure-native/storage/storageAccount";
import { BlobServiceProperties } from "@pulumi/azure-native/storage/blobServiceProperties";
import { BlobContainer } from "@pulumi/azure-native/storage/blobContainer";
import { Kind, AccessTier, MinimumTlsVersion, PublicAccess } from "@pulumi/azure-native/types/enums/storage";

export interface BlobStorageArgs {
  /** Globally unique account name (3-24 lowercase letters and digits). */
  readonly accountName: pulumi.Input<string>;
  /** Resource group that holds it. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  readonly location: string;
  /** Replication SKU, e.g. Standard_LRS. */
  readonly sku: string;
  /** Private blob containers, by name. */
  readonly containers: readonly string[];
  /** Days a deleted blob or container stays restorable. */
  readonly deleteRetentionDays: number;
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * A StorageV2 account reachable only with Entra ID tokens: shared keys (and so SAS) are off, no
 * anonymous blob access, HTTPS with TLS 1.2, blob and container soft delete.
 */
export class BlobStorage extends pulumi.ComponentResource {
  /** ARM id of the account. */
  public readonly accountId: pulumi.Output<string>;
  /** Account name. */
  public readonly accountName: pulumi.Output<string>;
  /** https://<account>.blob.core.windows.net/ */
  public readonly blobEndpoint: pulumi.Output<string>;
  /** ARM id of each container, by container name: the scope of per-container grants. */
  public readonly containerIds: Readonly<Record<string, pulumi.Output<string>>>;

  constructor(name: string, args: BlobStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:storage:BlobStorage", name, {}, opts);
    const account = new StorageAccount(
      `${name}-st`,
      {
        accountName: args.accountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: Kind.StorageV2,
        sku: { name: args.sku },
        accessTier: AccessTier.Hot,
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: MinimumTlsVersion.TLS1_2,
        allowBlobPublicAccess: false,
        // Identities only: with shared keys off no account key or SAS token works at all.
        allowSharedKeyAccess: false,
        // The portal and tools then default to Entra ID instead of trying a key first.
        defaultToOAuthAuthentication: true,
        allowCrossTenantReplication: false,
        tags: { ...args.tags },
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    const service = new BlobServiceProperties(
      `${name}-blob`,
      {
        accountName: account.name,
        resourceGroupName: args.resourceGroupName,
        blobServicesName: "default",
        deleteRetentionPolicy: { enabled: true, days: args.deleteRetentionDays },
        containerDeleteRetentionPolicy: { enabled: true, days: args.deleteRetentionDays },
      },
      { parent: this },
    );
    const containerIds: Record<string, pulumi.Output<string>> = {};
    for (const container of [...args.containers].sort()) {
      const c = new BlobContainer(
        `${name}-${container}`,
        { accountName: account.name, resourceGroupName: args.resourceGroupName, containerName: container, publicAccess: PublicAccess.None },
        { parent: this, dependsOn: [service] },
      );
      containerIds[container] = c.id;
    }
    this.accountId = account.id;
    this.accountName = account.name;
    this.blobEndpoint = account.primaryEndpoints.blob;
    this.containerIds = containerIds;
    this.registerOutputs({ accountId: this.accountId, accountName: this.accountName, blobEndpoint: this.blobEndpoint, containerIds });
  }
}
