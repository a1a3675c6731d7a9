import { getClientConfig, type GetClientConfigResult } from "@pulumi/azure-native/authorization/getClientConfig";
import { Provider as AzureProvider } from "@pulumi/azure-native/provider";
import { ResourceGroup } from "@pulumi/azure-native/resources/resourceGroup";
import { Provider as CommandProvider } from "@pulumi/command/provider";
import * as pulumi from "@pulumi/pulumi";
import { BlobStorage } from "../components/blob-storage";
import { ContainerRegistry } from "../components/container-registry";
import { KeyVault } from "../components/key-vault";
import { ProviderRegistrations } from "../components/provider-registrations";
import { type KeylessConfig, loadConfig } from "../lib/config";
import { containerRegistryName, keyVaultName, type NameParts, resourceGroupName, storageAccountName, uniqueSuffix } from "../lib/naming";
import { requiredNamespaces } from "../lib/resource-providers";

/** What every other part builds on: validated config, the explicit providers and the shared data services. */
export interface Platform {
  /** keyless:* config, validated before any resource was registered. */
  readonly config: KeylessConfig;
  /** Workload and environment, for names. */
  readonly names: NameParts;
  /** The azure-native provider every Azure resource uses (default providers are disabled). */
  readonly azure: AzureProvider;
  /** The command provider (local and remote commands). */
  readonly command: CommandProvider;
  /** Options that hand both providers to a component. */
  readonly providers: pulumi.ComponentResourceOptions;
  /** Like `providers`, plus `protect` in production: for stateful resources. */
  readonly stateful: pulumi.ComponentResourceOptions;
  /** Tenant, subscription and object id of the principal running `pulumi up`. */
  readonly client: pulumi.Output<GetClientConfigResult>;
  /**
   * Object id of the stack's deployer, for its own grants and as the gallery app's owner:
   * keyless:deployerObjectId when set, else the principal running pulumi.
   */
  readonly deployerObjectId: pulumi.Output<string>;
  /** Resource provider registrations; `dependencies(ns)` is what a resource of `ns` waits for. */
  readonly registrations: ProviderRegistrations;
  /** The shared resource group (storage, vault, registry). */
  readonly sharedGroup: ResourceGroup;
  readonly blob: BlobStorage;
  readonly vault: KeyVault;
  readonly registry: ContainerRegistry;
}

/**
 * Stops `pulumi up` when keyless:deployerObjectId names another identity than the one pulumi runs as:
 * the deployer's own data roles (cluster admin, Key Vault Secrets Officer) are granted to the pinned
 * identity, so another one could not use them, and it was not meant to deploy this stack. A preview
 * by another identity (preview.yml runs as a read-only identity) goes on, with a warning: it shows
 * the pinned deployer's grants, as they are.
 */
export function requireDeployer(expected: string, objectId: string, dryRun: boolean = pulumi.runtime.isDryRun()): void {
  if (objectId.toLowerCase() === expected.toLowerCase()) return;
  if (dryRun) {
    pulumi.log.warn(`keyless:deployerObjectId: pulumi is signed in as "${objectId}", not as the stack's deployer "${expected}"; this preview shows the deployer's grants, and pulumi up runs only as ${expected}`);
    return;
  }
  throw new pulumi.RunError(
    `keyless:deployerObjectId: ${JSON.stringify(expected)} deploys this stack, but pulumi is signed in as ${JSON.stringify(objectId)}; the deployer's own role assignments go to ${expected}, so another identity could not use them. Sign in as ${expected}, or set keyless:deployerObjectId to the stack's new deployer`,
  );
}

/**
 * The shared platform: config, providers, resource provider registration, and the data services
 * the workloads reach with their identities (Blob storage, Key Vault, ACR) in one resource group.
 */
export async function platform(): Promise<{ readonly platform: Platform; readonly outputs: Record<string, unknown> }> {
  const config = loadConfig();
  const names = { workload: config.workload, environment: config.environment };

  // Explicit providers only (Pulumi.<stack>.yaml disables the default ones, so a forgotten provider fails loudly).
  const azure = new AzureProvider("azure", { location: config.location });
  const command = new CommandProvider("command");
  const providers = { providers: [azure, command] };

  // One lookup of the identity running pulumi. A pinned deployer is checked on it before any resource
  // but the two providers is registered (an invoke runs at preview too). The deployer's grants go to
  // the pinned id when there is one, so a preview by another identity shows them unchanged.
  const clientConfig = getClientConfig({ provider: azure });
  if (config.deployerObjectId !== undefined) requireDeployer(config.deployerObjectId, (await clientConfig).objectId);
  const client = pulumi.output(clientConfig);
  const deployerObjectId = config.deployerObjectId !== undefined ? pulumi.output(config.deployerObjectId) : client.objectId;
  const suffix = client.subscriptionId.apply((sub) => uniqueSuffix(`${sub}/${config.project}/${config.stack}`));

  const registrations = new ProviderRegistrations(
    "resource-providers",
    { namespaces: requiredNamespaces(config), subscriptionId: client.subscriptionId, enabled: config.registerProviders },
    providers,
  );
  // Every resource registered from here on waits for its namespace's registration (lib/resource-providers.ts).
  pulumi.runtime.registerStackTransformation(registrations.transformation());

  const sharedGroup = new ResourceGroup(
    "shared-rg",
    { resourceGroupName: resourceGroupName(names, "shared"), location: config.location, tags: { ...config.tags } },
    { provider: azure },
  );

  // Stateful resources are protected in production: `pulumi destroy` stops until someone lifts it on purpose.
  const stateful = { ...providers, protect: config.production };

  const blob = new BlobStorage(
    "storage",
    {
      accountName: suffix.apply((s) => storageAccountName(names, s)),
      resourceGroupName: sharedGroup.name,
      location: config.location,
      sku: config.storage.sku,
      containers: config.storage.containers,
      deleteRetentionDays: config.storage.deleteRetentionDays,
      tags: config.tags,
    },
    { ...stateful, dependsOn: registrations.dependencies("Microsoft.Storage") },
  );

  const vault = new KeyVault(
    "vault",
    {
      vaultName: suffix.apply((s) => keyVaultName(names, s)),
      resourceGroupName: sharedGroup.name,
      location: config.location,
      tenantId: client.tenantId,
      purgeProtection: config.keyVault.purgeProtection,
      softDeleteRetentionDays: config.keyVault.softDeleteRetentionDays,
      publicNetworkAccess: config.keyVault.publicNetworkAccess,
      createMode: config.keyVault.createMode,
      tags: config.tags,
    },
    { ...stateful, dependsOn: registrations.dependencies("Microsoft.KeyVault") },
  );

  const registry = new ContainerRegistry(
    "registry",
    {
      registryName: suffix.apply((s) => containerRegistryName(names, s)),
      resourceGroupName: sharedGroup.name,
      location: config.location,
      sku: config.registry.sku,
      tags: config.tags,
    },
    { ...stateful, dependsOn: registrations.dependencies("Microsoft.ContainerRegistry") },
  );

  return {
    platform: { config, names, azure, command, providers, stateful, client, deployerObjectId, registrations, sharedGroup, blob, vault, registry },
    outputs: {
      resourceGroups: { shared: sharedGroup.name },
      storage: { accountName: blob.accountName, blobEndpoint: blob.blobEndpoint, containerIds: blob.containerIds },
      keyVault: { name: vault.vaultName, uri: vault.vaultUri, id: vault.vaultId },
      registry: { name: registry.registryName, loginServer: registry.loginServer, id: registry.registryId },
    },
  };
}
