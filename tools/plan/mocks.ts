import * as pulumi from "@pulumi/pulumi";
import { deterministicUuid } from "../../lib/naming";

// Realistic computed outputs for the offline plan and the tests: ARM ids, principal and client ids,
// endpoints. Everything derives from the inputs, so the same program gives the same plan byte for byte.

/** The subscription and tenant the offline plan pretends to deploy into. */
export const mockSubscriptionId = "5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b";
export const mockTenantId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
/** Object id of the principal that runs `pulumi up` in the plan, unless the stack names its deployer. */
export const mockDeployerObjectId = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";

let signedInObjectId = mockDeployerObjectId;
/**
 * Who the plan is signed in as (getClientConfig's objectId). Offline nobody is: the engine takes the
 * stack's keyless:deployerObjectId when it sets one, else mockDeployerObjectId; tests pass another
 * id to see what a run by another identity does.
 */
export function setSignedInObjectId(id: string | undefined): void {
  signedInObjectId = id ?? mockDeployerObjectId;
}

type Inputs = Record<string, any>;

/**
 * The engine's "unknown" value on the wire (@pulumi/pulumi runtime/rpc.js `unknownValue`): the SDK
 * reads it back as an unknown output, skips applies and invokes on it, and so propagates it as
 * `pulumi preview` does.
 */
export const unknownSentinel = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

let previewUnknowns = false;

/**
 * At preview, answer as the engine answers for a resource it has not created yet: its outputs are
 * its inputs, and every property the inputs do not set is unknown (azure-native's PreviewOutputs,
 * pulumi-azure-native provider/pkg/convert: "maps them to the outputs shape, adding unknowns for
 * all properties that are not defined in inputs"; the engine does the same, pulumi/pulumi#3245), so
 * `id`, `name`, principal ids and endpoints are unknown ("inputs set by the output of other resources that are being created ...
 * simply records unknown", https://www.pulumi.com/docs/iac/concepts/update-plans/). Off by default:
 * tests assert on the realistic values.
 */
export function setPreviewUnknowns(on: boolean): void {
  previewUnknowns = on;
}

/** Whether this run is such a preview: in `pulumi up` every value is known. */
function unknownsNow(): boolean {
  return previewUnknowns && pulumi.runtime.isDryRun();
}

/** Forget the run commands and subnets earlier runs registered (machineLookups is the tests' to reset). */
export function resetMocks(): void {
  runCommands.clear();
  subnetPrefixes.clear();
}

/** computed with every leaf the request does not carry replaced by the unknown sentinel. */
function unknownExceptEchoed(computed: unknown, input: unknown): unknown {
  if (Array.isArray(computed)) return computed.map((c, i) => unknownExceptEchoed(c, Array.isArray(input) ? input[i] : undefined));
  if (computed !== null && typeof computed === "object") {
    const inp = input !== null && typeof input === "object" ? (input as Inputs) : {};
    return Object.fromEntries(Object.entries(computed).map(([k, v]) => [k, unknownExceptEchoed(v, inp[k])]));
  }
  if (computed === undefined || computed === input) return computed;
  return unknownSentinel;
}

/** A computed value built from an unknown input ("[object Object]" in a string) is itself unknown. */
function unknownWhereBuiltFromUnknown(v: unknown): unknown {
  if (typeof v === "string") return v.includes("[object Object]") || v.includes(unknownSentinel) ? unknownSentinel : v;
  if (Array.isArray(v)) return v.map(unknownWhereBuiltFromUnknown);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unknownWhereBuiltFromUnknown(x)]));
  return v;
}
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
  "azure-native:keyvault:Secret": (i, n) => {
    // Without secretName azure-native auto-names the secret: the logical name and a random suffix.
    const secretName = i.secretName ?? `${n}${mockGuid("autoname", n).slice(0, 8)}`;
    return {
      id: `${rgId(i)}/providers/Microsoft.KeyVault/vaults/${i.vaultName}/secrets/${secretName}`,
      name: secretName,
      properties: { secretUri: `https://${i.vaultName}.vault.azure.net/secrets/${secretName}`, secretUriWithVersion: `https://${i.vaultName}.vault.azure.net/secrets/${secretName}/${mockGuid(i.vaultName, secretName).replace(/-/g, "")}` },
    };
  },
  "azure-native:containerregistry:Registry": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.ContainerRegistry/registries/${i.registryName}`,
    name: i.registryName,
    loginServer: `${String(i.registryName).toLowerCase()}.azurecr.io`,
  }),
  "azure-native:managedidentity:UserAssignedIdentity": (i) => {
    const id = `${rgId(i)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}`;
    return { id, name: i.resourceName, principalId: mockGuid("principal", id), clientId: mockGuid("client", id), tenantId: mockTenantId };
  },
  "azure-native:hybridcompute:MachineRunCommand": (i) => ({
    id: `${rgId(i)}/providers/Microsoft.HybridCompute/machines/${i.machineName}/runCommands/${i.runCommandName}`,
    name: i.runCommandName,
    provisioningState: "Succeeded",
    instanceView: { executionState: "Succeeded", exitCode: 0, output: "keyless-verify: OK" },
  }),
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

/** Run commands the program registered, so reading one back (with $expand=instanceView) answers like Azure. */
const runCommands = new Map<string, Inputs>();
/** Subnet prefixes by subnet id, so a NIC gets an address from its subnet. */
const subnetPrefixes = new Map<string, string>();

const runCommandKey = (rg: unknown, vm: unknown, name: unknown) => `${rg}/${vm}/${name}`.toLowerCase();

/** What scripts/vm/verify-acr-pull.sh prints on success, for the run command's instance view. */
function runCommandInstanceView(i: Inputs | undefined): State {
  const param = (n: string) => (i?.parameters as { name: string; value: string }[] | undefined)?.find((p) => p.name === n)?.value ?? "";
  const ref = `${param("REGISTRY_LOGIN_SERVER")}/${param("VERIFY_IMAGE")}`;
  const digest = `sha256:${mockGuid("digest", ref).replace(/-/g, "")}${mockGuid("digest2", ref).replace(/-/g, "")}`;
  return {
    executionState: "Succeeded",
    executionMessage: "",
    exitCode: 0,
    output: `verify: OK pulled ${ref} (${digest}) with identity ${param("IDENTITY_CLIENT_ID")} (no registry password)\n`,
    error: "Login Succeeded\n",
    startTime: "2026-01-01T00:00:00+00:00",
    endTime: "2026-01-01T00:03:00+00:00",
  };
}

/** A deterministic address in Azure's public ranges for a mocked public IP. */
function mockPublicIp(id: string): string {
  const b = Buffer.from(mockGuid("public-ip", id).replace(/-/g, ""), "hex");
  return `20.${b[0]}.${b[1]}.${(b[2] % 254) + 1}`;
}

Object.assign(azureOutputs, {
  "azure-native:network:NetworkSecurityGroup": (i: Inputs) => ({
    id: `${rgId(i)}/providers/Microsoft.Network/networkSecurityGroups/${i.networkSecurityGroupName}`,
    name: i.networkSecurityGroupName,
    provisioningState: "Succeeded",
  }),
  "azure-native:network:PublicIPAddress": (i: Inputs) => {
    const id = `${rgId(i)}/providers/Microsoft.Network/publicIPAddresses/${i.publicIpAddressName}`;
    return { id, name: i.publicIpAddressName, ipAddress: mockPublicIp(id), provisioningState: "Succeeded" };
  },
  "azure-native:network:NatGateway": (i: Inputs) => ({
    id: `${rgId(i)}/providers/Microsoft.Network/natGateways/${i.natGatewayName}`,
    name: i.natGatewayName,
    provisioningState: "Succeeded",
  }),
  "azure-native:network:VirtualNetwork": (i: Inputs) => ({
    id: `${rgId(i)}/providers/Microsoft.Network/virtualNetworks/${i.virtualNetworkName}`,
    name: i.virtualNetworkName,
    provisioningState: "Succeeded",
  }),
  "azure-native:network:Subnet": (i: Inputs) => {
    const id = `${rgId(i)}/providers/Microsoft.Network/virtualNetworks/${i.virtualNetworkName}/subnets/${i.subnetName}`;
    if (typeof i.addressPrefix === "string") subnetPrefixes.set(id, i.addressPrefix);
    return { id, name: i.subnetName, provisioningState: "Succeeded" };
  },
  "azure-native:network:NetworkInterface": (i: Inputs) => {
    const id = `${rgId(i)}/providers/Microsoft.Network/networkInterfaces/${i.networkInterfaceName}`;
    // Azure keeps the first four addresses of a subnet; the first NIC gets .4.
    const configs = ((i.ipConfigurations ?? []) as Inputs[]).map((c, n) => {
      const prefix = subnetPrefixes.get(c.subnet?.id) ?? "10.0.0.0/24";
      const [a, b, cc] = prefix.split("/")[0].split(".");
      return { ...c, id: `${id}/ipConfigurations/${c.name}`, privateIPAddress: `${a}.${b}.${cc}.${4 + n}`, provisioningState: "Succeeded" };
    });
    return { id, name: i.networkInterfaceName, ipConfigurations: configs, macAddress: "00-0D-3A-00-00-01", provisioningState: "Succeeded" };
  },
  "azure-native:compute:VirtualMachine": (i: Inputs) => {
    const id = `${rgId(i)}/providers/Microsoft.Compute/virtualMachines/${i.vmName}`;
    const identity = i.identity
      ? {
          ...i.identity,
          principalId: String(i.identity.type).includes("SystemAssigned") ? mockGuid("principal", id) : undefined,
          tenantId: String(i.identity.type).includes("SystemAssigned") ? mockTenantId : undefined,
          userAssignedIdentities: Object.fromEntries(((i.identity.userAssignedIdentities ?? []) as string[]).map((u) => [u, { principalId: mockGuid("principal", u), clientId: mockGuid("client", u) }])),
        }
      : undefined;
    return { id, name: i.vmName, vmId: mockGuid("vm", id), identity, provisioningState: "Succeeded" };
  },
  "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": (i: Inputs) => {
    runCommands.set(runCommandKey(i.resourceGroupName, i.vmName, i.runCommandName), i);
    return {
      id: `${rgId(i)}/providers/Microsoft.Compute/virtualMachines/${i.vmName}/runCommands/${i.runCommandName}`,
      name: i.runCommandName,
      provisioningState: "Succeeded",
      instanceView: runCommandInstanceView(i),
    };
  },
} satisfies Record<string, (inputs: Inputs, name: string) => State>);

// AKS: the cluster's computed identity, issuer and node group, as ARM returns them.
Object.assign(azureOutputs, {
  "azure-native:containerservice:ManagedCluster": (i: Inputs, n: string) => {
    const id = `${rgId(i)}/providers/Microsoft.ContainerService/managedClusters/${i.resourceName}`;
    const nodeGroup = i.nodeResourceGroup ?? `MC_${i.resourceGroupName}_${i.resourceName}_${i.location}`;
    return {
      id,
      name: i.resourceName ?? n,
      fqdn: `${i.dnsPrefix}-${mockGuid("fqdn", id).slice(0, 8)}.hcp.${i.location}.azmk8s.io`,
      nodeResourceGroup: nodeGroup,
      oidcIssuerProfile: { enabled: true, issuerURL: `https://${i.location}.oic.prod-aks.azure.com/${mockTenantId}/${mockGuid("issuer", id)}/` },
      identity: { type: "SystemAssigned", principalId: mockGuid("cluster-principal", id), tenantId: mockTenantId },
      identityProfile: {
        kubeletidentity: {
          resourceId: `${sub}/resourceGroups/${nodeGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}-agentpool`,
          clientId: mockGuid("kubelet-client", id),
          objectId: mockGuid("kubelet-principal", id),
        },
      },
    };
  },
  "azure-native:managedidentity:FederatedIdentityCredential": (i: Inputs) => ({
    id: `${rgId(i)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.resourceName}/federatedIdentityCredentials/${i.federatedIdentityCredentialResourceName}`,
    name: i.federatedIdentityCredentialResourceName,
  }),
  "azure-native:features:SubscriptionFeatureRegistration": (i: Inputs) => ({
    id: `${sub}/providers/Microsoft.Features/featureProviders/${i.providerNamespace}/subscriptionFeatureRegistrations/${i.featureName}`,
    name: i.featureName,
  }),
});

// Microsoft Graph objects (azuread): ids as the provider reports them (/applications/<object id>,
// /servicePrincipals/<object id>, <app object id>/federatedIdentityCredential/<credential id>).
Object.assign(azureOutputs, {
  "azuread:index/application:Application": (i: Inputs, n: string) => {
    const objectId = mockGuid("application", String(i.displayName ?? n));
    return { id: `/applications/${objectId}`, objectId, clientId: mockGuid("application-client", String(i.displayName ?? n)), publisherDomain: "contoso.onmicrosoft.com" };
  },
  "azuread:index/servicePrincipal:ServicePrincipal": (i: Inputs) => {
    const objectId = mockGuid("service-principal", String(i.clientId));
    return { id: `/servicePrincipals/${objectId}`, objectId, applicationTenantId: mockTenantId, type: "Application" };
  },
  "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": (i: Inputs) => {
    const appObjectId = String(i.applicationId).split("/").pop();
    const credentialId = mockGuid("federated-credential", String(i.applicationId), String(i.displayName));
    return { id: `${appObjectId}/federatedIdentityCredential/${credentialId}`, credentialId };
  },
});

/** A kubeconfig as AKS returns it with format=exec (Entra ID, kubelogin), for listManagedClusterUserCredentials. */
function mockKubeconfig(inputs: Inputs): string {
  const server = `https://${inputs.resourceName}-00000000.hcp.japaneast.azmk8s.io:443`;
  const yaml = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${inputs.resourceName}`,
    "  cluster:",
    "    certificate-authority-data: TU9DSy1DQQ==",
    `    server: ${server}`,
    "contexts:",
    `- name: ${inputs.resourceName}`,
    "  context:",
    `    cluster: ${inputs.resourceName}`,
    `    user: clusterUser_${inputs.resourceGroupName}_${inputs.resourceName}`,
    `current-context: ${inputs.resourceName}`,
    "users:",
    `- name: clusterUser_${inputs.resourceGroupName}_${inputs.resourceName}`,
    "  user:",
    "    exec:",
    "      apiVersion: client.authentication.k8s.io/v1beta1",
    "      command: kubelogin",
    "      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --environment, AzurePublicCloud]",
    "",
  ].join("\n");
  return Buffer.from(yaml).toString("base64");
}

/** Invokes the program may make, with realistic results; anything else fails loudly. */
export const invokeResults: Record<string, (inputs: Inputs) => State> = {
  "azure-native:containerservice:listManagedClusterUserCredentials": (i) => ({ kubeconfigs: [{ name: "clusterUser", value: mockKubeconfig(i) }] }),
  "azure-native:authorization:getClientConfig": () => ({
    clientId: mockGuid("deployer-client"),
    objectId: signedInObjectId,
    subscriptionId: mockSubscriptionId,
    tenantId: mockTenantId,
  }),
  // A fresh ARM access token at every call, as azure-native mints one per run; never shown (the
  // program marks it secret). The counter lets tests see that a second run's new token changes nothing.
  "azure-native:authorization:getClientToken": () => ({ token: `offline-plan-arm-token-${++mintedTokens}` }),
  "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine": (i) => {
    const cmd = runCommands.get(runCommandKey(i.resourceGroupName, i.vmName, i.runCommandName));
    if (!cmd) throw new UnmockedInvokeError(`no run command ${i.runCommandName} on ${i.vmName} in ${i.resourceGroupName} was registered before it was read`);
    // At preview the command has not run: its instance view is unknown until `pulumi up`.
    if (unknownsNow()) return { ...cmd, name: i.runCommandName, provisioningState: unknownSentinel, ...(i.expand === "instanceView" ? { instanceView: unknownSentinel } : {}) };
    return { ...cmd, name: i.runCommandName, provisioningState: "Succeeded", ...(i.expand === "instanceView" ? { instanceView: runCommandInstanceView(cmd) } : {}) };
  },
  // An Arc machine as ARM returns it once the agent has connected: the system-assigned identity is
  // always there (Arc-enabled servers always get one; azure-docs azure-arc/servers/managed-identity-authentication.md).
  "azure-native:hybridcompute:getMachine": (i) => {
    const id = `${rgId(i)}/providers/Microsoft.HybridCompute/machines/${i.machineName}`;
    machineLookups.push(id);
    // At preview the real lookup reads an existing machine from Azure; offline there is none to read,
    // so what only Azure knows (its identity, its region) is unknown rather than made up.
    const azureOnly = (v: string) => (unknownsNow() ? unknownSentinel : v);
    return { id, name: i.machineName, type: "Microsoft.HybridCompute/machines", location: azureOnly("japaneast"), identity: { type: "SystemAssigned", principalId: azureOnly(mockGuid("principal", id.toLowerCase())), tenantId: mockTenantId }, status: "Connected" };
  },
};

/** How many access tokens the plan minted (getClientToken calls). */
let mintedTokens = 0;

/** Every getMachine lookup the program made, in order (tests check none runs at a brand-new preview). */
export const machineLookups: string[] = [];

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
    if (args.type === "command:remote:Command" && pulumi.runtime.isDryRun()) {
      // A command that has not run yet has no id at preview (the engine reports it unknown); what
      // waits on it through its id (an Arc machine lookup) must then wait too, as it does for real.
      return { id: "", state: { ...args.inputs } };
    }
    const computed = unknownWhereBuiltFromUnknown(azureOutputs[args.type]?.(args.inputs, args.name) ?? genericOutputs(args.type, args.inputs, args.name)) as State;
    if (unknownsNow()) {
      const state: State = { ...args.inputs };
      for (const [k, v] of Object.entries(computed)) state[k] = unknownExceptEchoed(v, args.inputs[k]);
      // An empty id is the engine's "not created yet": the SDK reads it as unknown.
      return { id: "", state };
    }
    const state = { ...args.inputs, ...computed };
    return { id: String(state.id === unknownSentinel ? "" : (state.id ?? `${args.name}-id`)), state };
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
