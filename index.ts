import * as authorization from "@pulumi/azure-native/authorization";
import { Provider as AzureProvider } from "@pulumi/azure-native/provider";
import * as resources from "@pulumi/azure-native/resources";
import { Provider as CommandProvider } from "@pulumi/command/provider";
import { BlobStorage } from "./components/blob-storage";
import { ContainerRegistry } from "./components/container-registry";
import { ImageGallery } from "./components/image-gallery";
import { KeyVault } from "./components/key-vault";
import { LighthouseDelegation } from "./components/lighthouse-delegation";
import { ProviderRegistrations } from "./components/provider-registrations";
import { loadConfig } from "./lib/config";
import { consumerSteps } from "./lib/gallery-consumer";
import { containerRegistryName, galleryName, keyVaultName, resourceGroupName, storageAccountName, uniqueSuffix } from "./lib/naming";
import { requiredNamespaces } from "./lib/resource-providers";

// Thin on purpose: read config, build providers, create components, export outputs.

const config = loadConfig();
const names = { workload: config.workload, environment: config.environment };

// Explicit providers only (Pulumi.<stack>.yaml disables the default ones, so a forgotten provider fails loudly).
const azure = new AzureProvider("azure", { location: config.location });
const command = new CommandProvider("command");
const providers = { providers: [azure, command] };

const client = authorization.getClientConfigOutput({ provider: azure });
const suffix = client.subscriptionId.apply((sub) => uniqueSuffix(`${sub}/${config.project}/${config.stack}`));

const registrations = new ProviderRegistrations(
  "resource-providers",
  { namespaces: requiredNamespaces(config), subscriptionId: client.subscriptionId, enabled: config.registerProviders },
  providers,
);

const sharedGroup = new resources.ResourceGroup(
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

const kv = new KeyVault(
  "vault",
  {
    vaultName: suffix.apply((s) => keyVaultName(names, s)),
    resourceGroupName: sharedGroup.name,
    location: config.location,
    tenantId: client.tenantId,
    purgeProtection: config.keyVault.purgeProtection,
    softDeleteRetentionDays: config.keyVault.softDeleteRetentionDays,
    publicNetworkAccess: config.keyVault.publicNetworkAccess,
    tags: config.tags,
  },
  { ...stateful, dependsOn: registrations.dependencies("Microsoft.KeyVault") },
);

const acr = new ContainerRegistry(
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

export const resourceGroups = { shared: sharedGroup.name };
export const storage = { accountName: blob.accountName, blobEndpoint: blob.blobEndpoint, containerIds: blob.containerIds };
export const keyVault = { name: kv.vaultName, uri: kv.vaultUri, id: kv.vaultId };
export const registry = { name: acr.registryName, loginServer: acr.loginServer, id: acr.registryId };

// Image gallery shared with other tenants (docs/gallery.md).
let galleryOutputs: Record<string, unknown> | undefined;
if (config.gallery) {
  const g = config.gallery;
  const imageGallery = new ImageGallery(
    "gallery",
    {
      resourceGroupName: resourceGroupName(names, "gallery"),
      galleryName: galleryName(names),
      location: config.location,
      subscriptionId: client.subscriptionId,
      images: g.images,
      rbac: g.sharing.rbac,
      direct: g.sharing.direct,
      tags: config.tags,
    },
    { ...stateful, dependsOn: registrations.dependencies("Microsoft.Compute") },
  );
  const lh = g.sharing.lighthouse;
  const delegation = lh
    ? new LighthouseDelegation(
        "gallery-delegation",
        {
          subscriptionId: client.subscriptionId,
          customerTenantId: client.tenantId,
          scope: imageGallery.resourceGroupId,
          scopeName: resourceGroupName(names, "gallery"),
          offerName: lh.offerName,
          description: lh.description,
          managedByTenantId: lh.managedByTenantId,
          authorizations: lh.authorizations,
          eligibleAuthorizations: lh.eligibleAuthorizations,
          allowRemovalByManagingTenant: lh.allowRemovalByManagingTenant,
        },
        { ...providers, dependsOn: registrations.dependencies("Microsoft.ManagedServices") },
      )
    : undefined;
  galleryOutputs = {
    id: imageGallery.galleryId,
    resourceGroup: imageGallery.resourceGroupName,
    imageIds: imageGallery.imageIds,
    versionIds: imageGallery.versionIds,
    delegation: delegation ? { registrationDefinitionId: delegation.definitionId, registrationAssignmentId: delegation.assignmentId } : undefined,
    consumerSteps: consumerSteps(g, imageGallery),
  };
}
export const gallery = galleryOutputs;
