import type * as pulumi from "@pulumi/pulumi";
import { deterministicUuid } from "../../lib/naming";

// Realistic computed outputs for the offline plan and the tests: ARM ids, principal and client ids,
// endpoints. Everything derives from the inputs, so the same program gives the same plan byte for byte.

/** The subscription and tenant the offline plan pretends to deploy into. */
export const mockSubscriptionId = "5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b";
export const mockTenantId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
/** Object id of the principal that runs `pulumi up` in the plan. */
export const mockDeployerObjectId = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

type Inputs = Record<string, any>;
type State = Record<string, unknown>;

const sub = `/subscriptions/${mockSubscriptionId}`;
const rgId = (inputs: Inputs) => `${sub}/resourceGroups/${inputs.resourceGroupName}`;

/** A deterministic GUID for a computed id (principal, client, tenant-scoped object). */
export function mockGuid(...parts: string[]): string {
  return deterministicUuid("keyless-offline-plan", ...parts);
}

/**
 * Per Azure type: the input that carries the Azure name, and the outputs ARM would compute.
 * Types not listed get a generic ARM id under the resource group; add a row when a component needs
 * a computed output to read like Azure's.
 */
export const azureOutputs: Record<string, (inputs: Inputs, name: string) => State> = {
  "azure-native:resources:ResourceGroup": (i, n) => {
    const rg = i.resourceGroupName ?? n;
    return { id: `${sub}/resourceGroups/${rg}`, name: rg, properties: { provisioningState: "Succeeded" } };
  },
  "azure-native:storage:StorageAccount": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.Storage/storageAccounts/${i.accountName}`,
    name: i.accountName,
    primaryEndpoints: { blob: `https://${i.accountName}.blob.core.windows.net/`, dfs: `https://${i.accountName}.dfs.core.windows.net/` },
  }),
  "azure-native:storage:BlobServiceProperties": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.Storage/storageAccounts/${i.accountName}/blobServices/default`,
    name: "default",
  }),
  "azure-native:storage:BlobContainer": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.Storage/storageAccounts/${i.accountName}/blobServices/default/containers/${i.containerName}`,
    name: i.containerName,
  }),
  "azure-native:keyvault:Vault": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.KeyVault/vaults/${i.vaultName}`,
    name: i.vaultName,
    properties: { ...i.properties, vaultUri: `https://${i.vaultName}.vault.azure.net/` },
  }),
  "azure-native:keyvault:Secret": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.KeyVault/vaults/${i.vaultName}/secrets/${i.secretName}`,
    name: i.secretName,
    properties: { secretUri: `https://${i.vaultName}.vault.azure.net/secrets/${i.secretName}`, secretUriWithVersion: `https://${i.vaultName}.vault.azure.net/secrets/${i.secretName}/${mockGuid(i.vaultName, i.secretName).replace(/-/g, "")}` },
  }),
  "azure-native:containerregistry:Registry": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.ContainerRegistry/registries/${i.registryName}`,
    name: i.registryName,
    loginServer: `${String(i.registryName).toLowerCase()}.azurecr.io`,
  }),
  "azure-native:managedidentity:UserAssignedIdentity": (i) => {
    const id = `${rgId(i)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}`;
    return { id, name: i.resourceName, principalId: mockGuid("principal", id), clientId: mockGuid("client", id), tenantId: mockTenantId };
  },
  "azure-native:compute:Gallery": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.Compute/galleries/${i.galleryName}`,
    name: i.galleryName,
    // Azure generates the unique name direct-share consumers see: <subscription>-<GALLERY NAME>.
    identifier: { uniqueName: `${mockSubscriptionId}-${String(i.galleryName).toUpperCase()}` },
  }),
  "azure-native:compute:GalleryImage": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.Compute/galleries/${i.galleryName}/images/${i.galleryImageName}`,
    name: i.galleryImageName,
  }),
  "azure-native:compute:GalleryImageVersion": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.Compute/galleries/${i.galleryName}/images/${i.galleryImageName}/versions/${i.galleryImageVersionName}`,
    name: i.galleryImageVersionName,
  }),
  "azure-native:managedservices:RegistrationDefinition": (i) => ({
    id: `${i.scope}/providers/Microsoft.ManagedServices/registrationDefinitions/${i.registrationDefinitionId}`,
    name: i.registrationDefinitionId,
  }),
  "azure-native:managedservices:RegistrationAssignment": (i) => ({
    id: `${i.scope}/providers/Microsoft.ManagedServices/registrationAssignments/${i.registrationAssignmentId}`,
    name: i.registrationAssignmentId,
  }),
  "azure-native:authorization:RoleAssignment": (i) => ({
    id: `${i.scope}/providers/Microsoft.Authorization/roleAssignments/${i.roleAssignmentName}`,
    name: i.roleAssignmentName,
  }),
};

/** Invokes the program may make, with realistic results; anything else fails loudly. */
export const invokeResults: Record<string, (inputs: Inputs) => State> = {
  "azure-native:authorization:getClientConfig": () => ({
    clientId: mockGuid("deployer-client"),
    objectId: mockDeployerObjectId,
    subscriptionId: mockSubscriptionId,
    tenantId: mockTenantId,
  }),
};

/** Raised when the program makes a call the mocks do not know: a test must decide what it returns. */
export class UnmockedInvokeError extends Error {}

/** Raised when a custom resource would use a default provider (disabled in every stack). */
export class DefaultProviderError extends Error {}

export const mocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: State } {
    if (args.type.startsWith("pulumi:providers:")) {
      return { id: `${args.name}-provider-id`, state: { ...args.inputs } };
    }
    if (args.custom !== false && !args.provider) {
      throw new DefaultProviderError(`${args.type} "${args.name}" has no explicit provider; default providers are disabled (pass the provider from index.ts)`);
    }
    const computed = azureOutputs[args.type]?.(args.inputs, args.name) ?? genericOutputs(args.type, args.inputs, args.name);
    const state = { ...args.inputs, ...computed };
    return { id: String(state.id ?? `${args.name}-id`), state };
  },
  call(args: pulumi.runtime.MockCallArgs): State {
    const result = invokeResults[args.token];
    if (!result) throw new UnmockedInvokeError(`unmocked invoke ${args.token}(${JSON.stringify(args.inputs)}): add it to tools/plan/mocks.ts`);
    return result(args.inputs);
  },
};

function genericOutputs(type: string, inputs: Inputs, name: string): State {
  const [pkg, module, kind] = type.split(":");
  if (pkg === "azure-native" && inputs.resourceGroupName) {
    return { id: `${rgId(inputs)}/providers/${module}/${kind}/${name}`, name };
  }
  return { id: `${name}-id` };
}
