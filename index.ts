import * as authorization from "@pulumi/azure-native/authorization";
import { Provider as AzureProvider } from "@pulumi/azure-native/provider";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { Provider as CommandProvider } from "@pulumi/command/provider";
import { ArcFleet } from "./components/arc-fleet";
import { BlobStorage } from "./components/blob-storage";
import { ContainerRegistry } from "./components/container-registry";
import { KeyVault } from "./components/key-vault";
import { ProviderRegistrations } from "./components/provider-registrations";
import { loadConfig } from "./lib/config";
import { containerRegistryName, keyVaultName, resourceGroupName, storageAccountName, uniqueSuffix } from "./lib/naming";
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
  : undefined;
