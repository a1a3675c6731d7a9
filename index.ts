import * as authorization from "@pulumi/azure-native/authorization";
import { Provider as AzureProvider } from "@pulumi/azure-native/provider";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { Provider as CommandProvider } from "@pulumi/command/provider";
import { AksCluster } from "./components/aks-cluster";
import { ArcFleet } from "./components/arc-fleet";
import { BlobStorage } from "./components/blob-storage";
import { ContainerHost } from "./components/container-host";
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

// Container host VM (keyless:vm): pulls from the registry with a user-assigned identity, verified from inside.
const vmConfig = config.vm?.enabled ? config.vm : undefined;
const host = vmConfig
  ? new ContainerHost(
      "vm",
      {
        names,
        location: config.location,
        tags: config.tags,
        size: vmConfig.size,
        adminUsername: vmConfig.adminUsername,
        sshPublicKey: vmConfig.sshPublicKey as string, // required when enabled (lib/config/vm.ts)
        image: vmConfig.image,
        verifyImage: vmConfig.verifyImage,
        sshSourceRange: vmConfig.sshSourceRange,
        publicIp: vmConfig.publicIp,
        systemAssignedIdentity: vmConfig.systemAssignedIdentity,
        addressSpace: vmConfig.addressSpace,
        registry: { id: acr.registryId, name: acr.registryName, loginServer: acr.loginServer },
      },
      { ...providers, dependsOn: registrations.dependencies("Microsoft.Compute", "Microsoft.Network", "Microsoft.ManagedIdentity") },
    )
  : undefined;

export const vm = host ? {
  resourceGroup: host.resourceGroupName,
  name: host.vmName,
  id: host.vmId,
  privateIp: host.privateIp,
  ...(host.publicIp ? { publicIp: host.publicIp } : {}),
  identity: { id: host.identity.id, clientId: host.identity.clientId, principalId: host.identity.principalId },
  verification: host.verification,
} : null;

// AKS with pod-managed identity (keyless:aks): Workload Identity by default, or seed 003's add-on.
// Nothing outside the cluster's own consumers waits for it (AKS takes 5-15 minutes to create).
const aksConfig = config.aks;
const aks = aksConfig
  ? new AksCluster(
      "aks",
      {
        names,
        location: config.location,
        tags: config.tags,
        tenantId: client.tenantId,
        subscriptionId: client.subscriptionId,
        podIdentity: aksConfig.podIdentity,
        nodeCount: aksConfig.nodeCount,
        nodeVmSize: aksConfig.nodeVmSize,
        kubernetesVersion: aksConfig.kubernetesVersion,
        demoNamespace: aksConfig.demoNamespace,
        adminGroupObjectIds: aksConfig.adminGroupObjectIds,
        apiServerAuthorizedIpRanges: aksConfig.apiServerAuthorizedIpRanges,
        kubeloginMode: aksConfig.kubeloginMode,
        deployer: { objectId: client.objectId, principalType: aksConfig.deployerPrincipalType },
        skuTier: aksConfig.skuTier,
        registryId: acr.registryId,
      },
      { ...providers, dependsOn: registrations.dependencies("Microsoft.ContainerService", "Microsoft.ManagedIdentity") },
    )
  : undefined;

export const aksCluster = aks ? {
  name: aks.clusterName,
  id: aks.clusterId,
  nodeResourceGroup: aks.nodeResourceGroup,
  oidcIssuerUrl: aks.oidcIssuerUrl,
  podIdentityClientId: aks.podIdentity.clientId,
  kubeconfig: aks.kubeconfig,
} : null;

// Azure Arc-enabled servers (docs/arc.md): onboarding, identity grants, on-host check.
const arcFleet = config.arc
  ? new ArcFleet(
      "arc",
      {
        resourceGroupName: resourceGroupName(names, "arc"),
        location: config.location,
        tags: config.tags,
        arc: config.arc,
        // Secret-only config becomes Pulumi secrets before any component sees it.
        servicePrincipalSecret: config.arcSecrets?.servicePrincipalSecret === undefined ? undefined : pulumi.secret(config.arcSecrets.servicePrincipalSecret),
        sshPrivateKeys: Object.fromEntries(Object.entries(config.arcSecrets?.sshPrivateKeys ?? {}).map(([k, v]) => [k, pulumi.secret(v)])),
        tenantId: client.tenantId,
        subscriptionId: client.subscriptionId,
        containerIds: blob.containerIds,
        blobEndpoint: blob.blobEndpoint,
        vault: { id: kv.vaultId, name: kv.vaultName, resourceGroupName: sharedGroup.name, uri: kv.vaultUri },
      },
      { ...providers, dependsOn: registrations.dependencies("Microsoft.HybridCompute", "Microsoft.GuestConfiguration", "Microsoft.HybridConnectivity") },
    )
  : undefined;

export const arc = arcFleet
  ? {
      resourceGroup: arcFleet.resourceGroupName,
      servers: Object.fromEntries(Object.entries(arcFleet.servers).map(([n, s]) => [n, { machineId: s.machineId, principalId: s.principalId, verification: s.verification }])),
    }
  : null;

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
export const gallery = galleryOutputs ?? null;
