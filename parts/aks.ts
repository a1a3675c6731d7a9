import { AksCluster } from "../components/aks-cluster";
import type { Platform } from "./platform";

/**
 * AKS with pod-managed identity (keyless:aks): Workload Identity by default, or the AAD Pod Identity
 * add-on. Nothing outside the cluster's own consumers waits for it (AKS takes 5-15 minutes to create).
 */
export function aksPart(p: Platform): Record<string, unknown> | null {
  const aksConfig = p.config.aks;
  if (!aksConfig) return null;
  const aks = new AksCluster(
    "aks",
    {
      names: p.names,
      location: p.config.location,
      tags: p.config.tags,
      tenantId: p.client.tenantId,
      subscriptionId: p.client.subscriptionId,
      podIdentity: aksConfig.podIdentity,
      nodeCount: aksConfig.nodeCount,
      nodeVmSize: aksConfig.nodeVmSize,
      kubernetesVersion: aksConfig.kubernetesVersion,
      demoNamespace: aksConfig.demoNamespace,
      adminGroupObjectIds: aksConfig.adminGroupObjectIds,
      apiServerAuthorizedIpRanges: aksConfig.apiServerAuthorizedIpRanges,
      kubeloginMode: aksConfig.kubeloginMode,
      deployer: { objectId: p.deployerObjectId, principalType: p.config.deployerPrincipalType },
      skuTier: aksConfig.skuTier,
      registryId: p.registry.registryId,
    },
    { ...p.providers, dependsOn: p.registrations.dependencies("Microsoft.ContainerService", "Microsoft.ManagedIdentity") },
  );
  return {
    name: aks.clusterName,
    id: aks.clusterId,
    nodeResourceGroup: aks.nodeResourceGroup,
    oidcIssuerUrl: aks.oidcIssuerUrl,
    podIdentityClientId: aks.podIdentity.clientId,
    kubeconfig: aks.kubeconfig,
  };
}
