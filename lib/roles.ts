// The one map of Azure built-in roles this program grants or validates against.
// Source: Microsoft Learn, "Azure built-in roles"
// (MicrosoftDocs/azure-docs articles/role-based-access-control/built-in-roles.md).
// No role GUID literal appears anywhere else in the project.

/** Built-in role name -> role definition GUID (the same in every tenant). */
export const builtInRoles = {
  /** Read, write and delete Blob containers and blobs (data plane). */
  "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  /** Read and list Blob containers and blobs (data plane). */
  "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  /** Read secret contents of a vault that uses the Azure RBAC permission model (data plane). */
  "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
  /** Read entire certificate contents, including secret and key portion (data plane). */
  "Key Vault Certificate User": "db79e9a7-68ee-4b58-9aeb-b90e7c24fcba",
  /** Create, read, update and delete secrets of a vault (data plane). */
  "Key Vault Secrets Officer": "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
  /** Pull images from a container registry. */
  AcrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  /** Manage virtual machines, but not access to them or the network/storage they connect to. */
  "Virtual Machine Contributor": "9980e02c-c2be-4d73-94e8-173b1dc7cf3c",
  /** Read and assign a user-assigned identity (what the AKS cluster identity needs to bind a pod identity). */
  "Managed Identity Operator": "f1a07417-d97a-45cb-824c-7a7467783830",
  /** View all resources, change nothing. */
  Reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  /** Manage all resources, but not grant access. */
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  /** Full access including granting access. Never granted by this program; listed so validation can refuse it. */
  Owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  /** List and read Azure Compute Gallery images and versions. */
  "Compute Gallery Image Reader": "cf7c76d2-98a3-4358-a134-615aa78bf44d",
  /** Change the sharing profile of a gallery (direct sharing). */
  "Compute Gallery Sharing Admin": "1ef6a3be-d0ac-425d-8c01-acb62866290b",
  /** Onboard Azure Connected Machines (what the Arc onboarding service principal holds). */
  "Azure Connected Machine Onboarding": "b64e21ea-ac4e-4cdf-9dc9-5b892992bee7",
  /** Read, write, delete and re-onboard Azure Connected Machines. */
  "Azure Connected Machine Resource Administrator": "cd570a14-e51a-42ad-bac8-bafd67325302",
  /** Lets a managing tenant remove a Lighthouse registration assignment from the customer side. */
  "Managed Services Registration assignment Delete Role": "91c1777a-f3dc-4fae-b103-61d183457e46",
  /** Manage all resources in an AKS cluster through Kubernetes RBAC backed by Azure RBAC (data plane). */
  "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
  /**
   * List the cluster user credential (Microsoft.ContainerService/managedClusters/listClusterUserCredential/action):
   * what `pulumi preview` calls to build the Kubernetes provider's kubeconfig. For the preview identity
   * (docs/operations.md); Contributor already includes it for the deploy identity.
   */
  "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
  /** Read most Kubernetes objects through Azure RBAC (data plane): the preview identity's view of the demo objects. */
  "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
  /** Manage user access to Azure resources. Never granted by this program; Lighthouse allows it only with delegatedRoleDefinitionIds. */
  "User Access Administrator": "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
} as const;

export type BuiltInRoleName = keyof typeof builtInRoles;

/** Every role name this map knows, sorted, for validation messages. */
export const builtInRoleNames = Object.keys(builtInRoles).sort() as BuiltInRoleName[];

/**
 * Roles whose definition has DataActions. Azure Lighthouse refuses these in an authorization
 * (azure-docs lighthouse/concepts/tenants-users-roles.md: "roles with DataActions" are not supported).
 */
export const rolesWithDataActions: ReadonlySet<BuiltInRoleName> = new Set<BuiltInRoleName>([
  "Storage Blob Data Contributor",
  "Storage Blob Data Reader",
  "Key Vault Secrets User",
  "Key Vault Certificate User",
  "Key Vault Secrets Officer",
  "Azure Kubernetes Service RBAC Cluster Admin",
  "Azure Kubernetes Service RBAC Reader",
]);

/**
 * The only roles a Lighthouse delegation of the gallery may hold (lib/config/gallery.ts refuses
 * others in config, policy/rules.ts keyless-lighthouse-gallery-roles on the registration
 * definition). The delegated group holds the gallery alone and a consumer only reads its images
 * to create VMs in its own tenant, so reading is all it needs; the delete role lets the managing
 * tenant remove the delegation (azure-docs lighthouse/how-to/remove-delegation.md).
 */
export const lighthouseGalleryRoles: readonly BuiltInRoleName[] = ["Reader", "Compute Gallery Image Reader", "Managed Services Registration assignment Delete Role"];

export function isBuiltInRoleName(name: string): name is BuiltInRoleName {
  return Object.prototype.hasOwnProperty.call(builtInRoles, name);
}

/** The GUID of a built-in role. */
export function roleGuid(role: BuiltInRoleName): string {
  return builtInRoles[role];
}

/**
 * The subscription-qualified role definition id, as Bicep's subscriptionResourceId() builds it:
 * built-in role definitions are subscription-scoped resources and ARM requires a fully qualified id
 * (azure-docs azure-resource-manager/bicep/scenarios-rbac.md; azure-rest-api-specs
 * RoleAssignments_CreateForResource.json).
 */
export function roleDefinitionId(subscriptionId: string, role: BuiltInRoleName): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${builtInRoles[role]}`;
}
