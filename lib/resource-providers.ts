import type { KeylessConfig } from "./config";

// Which Azure resource providers each part needs registered in the subscription before its first
// resource (a missing one fails with MissingSubscriptionRegistration). Microsoft.Resources and
// Microsoft.Authorization are always registered in every subscription.

/** Always needed: storage, Key Vault, ACR and user-assigned identities. */
export const platformNamespaces = ["Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.ContainerRegistry", "Microsoft.ManagedIdentity"] as const;

/** The namespaces this stack's enabled parts need, sorted and unique. */
export function requiredNamespaces(config: KeylessConfig): string[] {
  const namespaces = new Set<string>(platformNamespaces);
  if (config.gallery) {
    namespaces.add("Microsoft.Compute");
    // Registration definitions/assignments; only a Lighthouse delegation needs it.
    if (config.gallery.sharing.lighthouse) namespaces.add("Microsoft.ManagedServices");
  }
  return [...namespaces].sort();
}
