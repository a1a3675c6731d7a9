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

/** The namespaces this stack's enabled parts need, sorted and unique. */
/** Azure Arc-enabled servers (azure-docs azure-arc/servers/prerequisites.md, "Azure resource providers"). */
export const arcNamespaces = ["Microsoft.HybridCompute", "Microsoft.GuestConfiguration", "Microsoft.HybridConnectivity"] as const;

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
