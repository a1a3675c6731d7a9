import { z } from "zod";
import { bool, guid, intRange, oneOf, pattern, strictObject, uniqueList } from "./rules";

// keyless:aks — AKS with pod-managed identity (the hand-made AKS pod identity flow). podIdentity/nodeCount/nodeVmSize/
// kubernetesVersion/demoNamespace/adminGroupObjectIds/apiServerAuthorizedIpRanges are a contract
// (issue 4); the rest are optional.

/** kubelogin login modes that need no stored secret (Azure/kubelogin docs, "Login modes"; spn with a client secret is left out on purpose). */
export const kubeloginModes = ["azurecli", "workloadidentity", "devicecode", "interactive", "msi", "azd"] as const;

// IPv4 address or CIDR with octets 0-255 and prefix 0-32; AKS also accepts a bare address.
const ipv4Cidr = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)(\/(3[0-2]|[12]?\d))?$/;

export const aks = strictObject({
  /** workload-identity (supported) or aad-pod-identity (the hand-made flow's deprecated add-on). */
  podIdentity: oneOf(["workload-identity", "aad-pod-identity"]).default("workload-identity"),
  /** The add-on is out of support: choosing it needs this explicit acknowledgement. */
  acknowledgeDeprecatedPodIdentity: bool().default(false),
  nodeCount: intRange(1, 100).default(2),
  nodeVmSize: pattern(/^Standard_[A-Z]+[0-9]+(-[0-9]+)?[a-z]*(_[A-Za-z0-9]+)*$/, "an Azure VM size such as Standard_D2s_v5").default("Standard_D2s_v5"),
  // A minor only: the cluster's `patch` auto-upgrade channel moves it to newer patches, and a pinned
  // patch would then be sent back as a downgrade on the next update, which AKS refuses (the ManagedCluster
  // API's kubernetesVersion: "<major.minor> ... latest supported GA patch version is chosen automatically";
  // Azure/terraform-azurerm-aks#281: with the patch channel specify only the minor version).
  kubernetesVersion: pattern(/^1\.\d{1,2}$/, 'a Kubernetes minor version such as "1.33" (the patch auto-upgrade channel picks the patch; a pinned patch would be a downgrade after the first auto-upgrade, which AKS refuses)').optional(),
  demoNamespace: pattern(/^(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "a DNS label: 1-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit").default("demo"),
  adminGroupObjectIds: uniqueList(guid(), "Entra group object ids").default([]),
  apiServerAuthorizedIpRanges: uniqueList(pattern(ipv4Cidr, "an IPv4 address or CIDR such as 203.0.113.0/24"), "IPv4 CIDRs").default([]),
  /**
   * How the Kubernetes provider's kubelogin gets a token. azurecli reuses a developer's `az login`. The
   * repository's workflows keep it and set AAD_LOGIN_METHOD=workloadidentity in the job, which kubelogin
   * prefers to the kubeconfig's --login: in GitHub Actions that mode asks GitHub for a fresh OIDC token
   * at every request, where the Azure CLI cannot renew the one azure/login gave it (Azure/azure-cli#28708).
   */
  kubeloginMode: oneOf(kubeloginModes).default("azurecli"),
  /** Kept for stack files written before keyless:deployerPrincipalType: the same setting, for the AKS grant only; prefer the top-level key. */
  deployerPrincipalType: oneOf(["User", "ServicePrincipal"]).optional(),
  /** Free for dev; Standard (uptime SLA) for production. */
  skuTier: oneOf(["Free", "Standard"]).default("Free"),
});

export type AksConfig = z.output<typeof aks>;

/** Cross-key rules of keyless:aks. */
export function aksIssues(a: AksConfig): { path: (string | number)[]; input: unknown; message: string }[] {
  if (a.podIdentity === "aad-pod-identity" && !a.acknowledgeDeprecatedPodIdentity) {
    return [
      {
        path: ["aks", "podIdentity"],
        input: a.podIdentity,
        message:
          "is the deprecated AAD Pod Identity add-on (open source project archived 2023, AKS support ended September 2025); set keyless:aks.acknowledgeDeprecatedPodIdentity: true to use it anyway, or use workload-identity",
      },
    ];
  }
  return [];
}
