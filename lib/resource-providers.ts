import type { KeylessConfig } from "./config";

// Which Azure resource providers each part needs registered in the subscription before its first
// resource (a missing one fails with MissingSubscriptionRegistration). Microsoft.Resources and
// Microsoft.Authorization are always registered in every subscription.

/** Always needed: storage, Key Vault, ACR and user-assigned identities. */
export const platformNamespaces = ["Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.ContainerRegistry", "Microsoft.ManagedIdentity"] as const;

/** The container host VM (keyless:vm). */
export const vmNamespaces = ["Microsoft.Compute", "Microsoft.Network"] as const;

/**
 * AKS (keyless:aks): the cluster (ContainerService) and what it creates in its node resource group
 * (Compute for the scale set, Network for the VNet and load balancer).
 */
export const aksNamespaces = ["Microsoft.ContainerService", "Microsoft.Compute", "Microsoft.Network"] as const;

/** Azure Arc-enabled servers (azure-docs azure-arc/servers/prerequisites.md, "Azure resource providers"). */
export const arcNamespaces = ["Microsoft.HybridCompute", "Microsoft.GuestConfiguration", "Microsoft.HybridConnectivity"] as const;

/** The namespaces this stack's enabled parts need, sorted and unique. */
export function requiredNamespaces(config: KeylessConfig): string[] {
  const namespaces = new Set<string>(platformNamespaces);
  // The container host VM: the VM, its disk and run command (Compute), its network (Network).
  if (config.vm?.enabled) for (const ns of vmNamespaces) namespaces.add(ns);
  if (config.aks) for (const ns of aksNamespaces) namespaces.add(ns);
  if (config.arc) for (const ns of arcNamespaces) namespaces.add(ns);
  if (config.gallery) {
    namespaces.add("Microsoft.Compute");
    // Registration definitions/assignments; only a Lighthouse delegation needs it.
    if (config.gallery.sharing.lighthouse) namespaces.add("Microsoft.ManagedServices");
  }
  return [...namespaces].sort();
}

// Which namespace each resource acts on, so the stack-level transformation installed by the platform
// part (components/provider-registrations.ts) makes every resource wait for its namespace's registration
// and the readiness rules (policy/readiness.ts) can check the edge. A resource whose namespace is
// unknown is a rule violation: add it here, never component by component.

/** azure-native module (the middle of `azure-native:<module>:<Type>`) -> resource provider namespace. */
export const moduleNamespaces: Readonly<Record<string, string | null>> = {
  storage: "Microsoft.Storage",
  keyvault: "Microsoft.KeyVault",
  containerregistry: "Microsoft.ContainerRegistry",
  managedidentity: "Microsoft.ManagedIdentity",
  compute: "Microsoft.Compute",
  network: "Microsoft.Network",
  containerservice: "Microsoft.ContainerService",
  hybridcompute: "Microsoft.HybridCompute",
  managedservices: "Microsoft.ManagedServices",
  // Registered in every subscription by default (azure-docs azure-resource-manager/management/
  // azure-services-resource-providers.md, "Registration": Microsoft.Authorization, Microsoft.Features,
  // Microsoft.Resources, ...). features is only here so the readiness rules name the resource they refuse.
  resources: null,
  authorization: null,
  features: null,
};

/**
 * Commands (command:local/remote) act on whatever their component manages: keyed by the type token of
 * the component that owns them. An empty list says "acts on no namespace that needs registering".
 */
export const commandNamespaces: Readonly<Record<string, readonly string[]>> = {
  // The registrations themselves.
  "keyless:platform:ProviderRegistrations": [],
  // azcmagent connect creates the Microsoft.HybridCompute/machines resource and its extensions
  // (azure-docs azure-arc/servers/prerequisites.md, "Azure resource providers").
  "keyless:arc:ArcServer": arcNamespaces,
  "keyless:arc:ArcFleet": arcNamespaces,
  // az acr import into the registry.
  "keyless:vm:ContainerHost": ["Microsoft.ContainerRegistry"],
  // az sig share (direct sharing) on the gallery.
  "keyless:gallery:ImageGallery": ["Microsoft.Compute"],
  "keyless:gallery:LighthouseDelegation": ["Microsoft.ManagedServices"],
  // Feature registration and the cluster readiness gate act on Microsoft.ContainerService.
  "keyless:aks:AksCluster": ["Microsoft.ContainerService"],
  "keyless:aks:AksDemo": ["Microsoft.ContainerService"],
};

/**
 * Resource types that make Azure create resources of other namespaces in the subscription, so they
 * also wait for those registrations. AKS builds each node pool's scale set (Microsoft.Compute) and
 * the VNet and load balancer (Microsoft.Network) in its node resource group, and on a subscription
 * where those are not registered the cluster fails with MissingSubscriptionRegistration: the Azure
 * CLI registers them before `az aks create` for that reason (Azure/azure-cli#6327), and fresh
 * subscriptions hit it without (MicrosoftDocs/azure-docs#5778 and #41414).
 */
export const typeNamespaces: Readonly<Record<string, readonly string[]>> = {
  "azure-native:containerservice:ManagedCluster": aksNamespaces,
};

/** Kinds of resource the namespace lookup understands. */
export type NamespaceLookup = { readonly namespaces: readonly string[] } | { readonly unknown: string };

/**
 * The namespaces a resource needs registered before it is created. `type` is its type token,
 * `parentType` the type token of its parent component. Kubernetes objects and providers act on no
 * Azure namespace (the cluster they talk to already waited for Microsoft.ContainerService).
 */
export function namespacesOf(type: string, parentType: string | undefined): NamespaceLookup {
  if (Object.hasOwn(typeNamespaces, type)) return { namespaces: typeNamespaces[type] };
  const [pkg, module] = type.split(":");
  if (pkg === "azure-native") {
    if (!(module in moduleNamespaces)) return { unknown: `azure-native module "${module}"` };
    const ns = moduleNamespaces[module];
    return { namespaces: ns ? [ns] : [] };
  }
  if (pkg === "command") {
    if (parentType === undefined || !(parentType in commandNamespaces)) return { unknown: `command under ${parentType ?? "the stack"}` };
    return { namespaces: commandNamespaces[parentType] };
  }
  return { namespaces: [] };
}
