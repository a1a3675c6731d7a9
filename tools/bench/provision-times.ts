// Typical seconds for `pulumi up` to create one resource of each type from scratch, for the
// critical-path model (tools/bench/critical-path.ts). These are planning figures, not guarantees:
// Azure publishes few typical create times, so each row says where its figure comes from and
// whether that source gives a typical time or only an upper bound. Types not listed get
// `defaultSeconds`, and the benchmark prints which types fell back to it.

export interface ProvisionTime {
  readonly seconds: number;
  /** Where the figure comes from. */
  readonly source: string;
}

/**
 * Terraform's azurerm provider documents a create timeout per resource type: an upper bound, never
 * a typical time. Minutes are given only where checked in the provider's source.
 */
const tf = (resource: string, minutes?: number) =>
  `bound: Terraform azurerm_${resource} create timeout${minutes ? ` ${minutes} min (checked in terraform-provider-azurerm's source)` : ""}, registry.terraform.io/providers/hashicorp/azurerm/latest/docs/resources/${resource}#timeouts`;

export const defaultSeconds = 30;

export const provisionTimes: Readonly<Record<string, ProvisionTime>> = {
  // AKS dominates every deploy that has it.
  "azure-native:containerservice:ManagedCluster": {
    seconds: 600,
    source: `typical 5-15 min for a new cluster (issue 8 of this repo, measured with azure-native 3); the AKS CLI quickstart (MicrosoftDocs/azure-aks-docs articles/aks/learn/quick-kubernetes-deploy-cli.md) waits on az aks create with no shorter figure; ${tf("kubernetes_cluster")}`,
  },
  "azure-native:containerservice:AgentPool": { seconds: 300, source: `estimate: a node pool boots VMs like the cluster's own pool; ${tf("kubernetes_cluster_node_pool")}` },
  "azure-native:resources:ResourceGroup": { seconds: 3, source: `estimate: a synchronous ARM PUT; ${tf("resource_group", 90)}` },
  "azure-native:storage:StorageAccount": { seconds: 25, source: `estimate: an asynchronous ARM create (202 + polling); ${tf("storage_account")}` },
  "azure-native:storage:BlobServiceProperties": { seconds: 3, source: "estimate: a synchronous PUT on the account's blobServices/default" },
  "azure-native:storage:BlobContainer": { seconds: 3, source: `estimate: a synchronous PUT; ${tf("storage_container")}` },
  "azure-native:keyvault:Vault": { seconds: 30, source: `estimate: an asynchronous ARM create; ${tf("key_vault")}` },
  "azure-native:keyvault:Secret": { seconds: 3, source: `estimate: a synchronous PUT; ${tf("key_vault_secret")}` },
  "azure-native:containerregistry:Registry": { seconds: 30, source: `estimate: an asynchronous ARM create; ${tf("container_registry")}` },
  "azure-native:managedidentity:UserAssignedIdentity": { seconds: 5, source: `estimate: a synchronous PUT; ${tf("user_assigned_identity")}` },
  "azure-native:managedidentity:FederatedIdentityCredential": { seconds: 5, source: `estimate: a synchronous PUT; ${tf("federated_identity_credential")}` },
  // Creation returns in seconds; data-plane access may lag up to ~10 min (shared/azure-facts.md,
  // azure-docs role-based-access-control/troubleshooting.md), which no deploy waits for.
  "azure-native:authorization:RoleAssignment": { seconds: 10, source: `estimate: a synchronous PUT (plus azure-native's retry while a new principal replicates); ${tf("role_assignment")}` },
  "azure-native:compute:Gallery": { seconds: 20, source: `estimate: an asynchronous ARM create; ${tf("shared_image_gallery")}` },
  "azure-native:compute:GalleryImage": { seconds: 15, source: `estimate: an asynchronous ARM create; ${tf("shared_image")}` },
  "azure-native:compute:GalleryImageVersion": { seconds: 900, source: `estimate: a version copies and replicates the image; ${tf("shared_image_version")}` },
  "azure-native:managedservices:RegistrationDefinition": { seconds: 15, source: `estimate: a synchronous PUT at subscription scope; ${tf("lighthouse_definition")}` },
  "azure-native:managedservices:RegistrationAssignment": { seconds: 30, source: `estimate: an asynchronous PUT; ${tf("lighthouse_assignment")}` },
  "azure-native:hybridcompute:Machine": { seconds: 10, source: `estimate: adopting an already-connected machine is a PUT on its ARM resource; ${tf("arc_machine")}` },
  "azure-native:hybridcompute:MachineRunCommand": { seconds: 60, source: `estimate: the agent polls for the command, then runs a short script; ${tf("arc_machine_automanage_configuration_assignment")} (closest Arc resource with a documented timeout)` },
  "azure-native:hybridcompute:MachineExtension": { seconds: 180, source: `estimate: the agent downloads and installs the extension; ${tf("arc_machine_extension")}` },
  "azure-native:compute:VirtualMachine": { seconds: 90, source: `estimate: allocation and boot of a small VM; ${tf("linux_virtual_machine")}` },
  "azure-native:network:VirtualNetwork": { seconds: 10, source: `estimate; ${tf("virtual_network")}` },
  "azure-native:network:Subnet": { seconds: 10, source: `estimate; ${tf("subnet")}` },
  "azure-native:network:NetworkInterface": { seconds: 5, source: `estimate; ${tf("network_interface")}` },
  "azure-native:network:PublicIPAddress": { seconds: 5, source: `estimate; ${tf("public_ip")}` },
  "azure-native:network:NetworkSecurityGroup": { seconds: 5, source: `estimate; ${tf("network_security_group")}` },
  // `az provider register --namespace X --wait` on a subscription where X is not registered yet; a
  // registered namespace returns in a few seconds.
  "command:local:Command": { seconds: 60, source: "estimate: az provider register --wait for an unregistered namespace takes about a minute (azure-docs azure-resource-manager/management/resource-providers-and-types.md: registration is asynchronous)" },
  "command:remote:Command": { seconds: 120, source: "estimate: SSH, download and install of the Connected Machine agent, azcmagent connect (the hand-made Arc onboarding)" },
  "kubernetes:core/v1:Namespace": { seconds: 2, source: "estimate: one API server write" },
  "kubernetes:core/v1:ServiceAccount": { seconds: 2, source: "estimate: one API server write" },
  "kubernetes:apps/v1:Deployment": { seconds: 60, source: "estimate: @pulumi/kubernetes waits for the rollout (image pull, readiness); its await timeout is 10 min (pulumi.com/registry/packages/kubernetes/api-docs/apps/v1/deployment)" },
  "kubernetes:core/v1:Pod": { seconds: 45, source: "estimate: @pulumi/kubernetes waits for Ready (image pull)" },
  "kubernetes:batch/v1:Job": { seconds: 60, source: "estimate: @pulumi/kubernetes waits for completion" },
};

/** Seconds for one resource type, and whether the table had it. */
export function provisionSeconds(type: string): { seconds: number; known: boolean } {
  const row = provisionTimes[type];
  return row ? { seconds: row.seconds, known: true } : { seconds: defaultSeconds, known: false };
}
