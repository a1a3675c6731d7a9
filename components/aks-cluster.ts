import * as pulumi from "@pulumi/pulumi";
import { ManagedCluster, type ManagedClusterArgs } from "@pulumi/azure-native/containerservice/managedCluster";
import { listManagedClusterUserCredentialsOutput } from "@pulumi/azure-native/containerservice/listManagedClusterUserCredentials";
import { ResourceIdentityType } from "@pulumi/azure-native/types/enums/containerservice";
import { FederatedIdentityCredential } from "@pulumi/azure-native/managedidentity/federatedIdentityCredential";
import { ResourceGroup } from "@pulumi/azure-native/resources/resourceGroup";
import * as local from "@pulumi/command/local";
import { Provider as KubernetesProvider } from "@pulumi/kubernetes/provider";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { withKubeloginMode } from "../lib/kubeconfig";
import { type NameParts, resourceGroupName, scopedName } from "../lib/naming";
import type { PrincipalType } from "./role-assignment";
import { grantRole } from "./role-assignment";
import { AksDemo } from "./aks-demo";
import { UserIdentity } from "./user-identity";

/** Tag the policy pack looks for before it lets the deprecated pod identity add-on through. */
export const podIdentityAcknowledgedTag = "keyless-pod-identity-acknowledged";

export interface AksClusterArgs {
  /** Workload and environment, for names. */
  readonly names: NameParts;
  /** Azure region. */
  readonly location: string;
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
  /** Entra tenant of the cluster and its kubelogin tokens. */
  readonly tenantId: pulumi.Input<string>;
  /** Subscription, for the node resource group's scope. */
  readonly subscriptionId: pulumi.Input<string>;
  /** workload-identity (supported) or aad-pod-identity (the hand-made flow's deprecated add-on). */
  readonly podIdentity: "workload-identity" | "aad-pod-identity";
  /** System pool size. */
  readonly nodeCount: number;
  /** System pool VM size. */
  readonly nodeVmSize: string;
  /** Kubernetes version; undefined means AKS's default. */
  readonly kubernetesVersion?: string;
  /** Namespace of the demo workload and its identity binding. */
  readonly demoNamespace: string;
  /** Entra groups that get cluster admin. */
  readonly adminGroupObjectIds: readonly string[];
  /** API server allow list; empty means open to all (Entra ID still required). */
  readonly apiServerAuthorizedIpRanges: readonly string[];
  /** kubelogin mode of the Kubernetes provider. */
  readonly kubeloginMode: string;
  /** Object id and kind of the principal running `pulumi up`: it gets AKS RBAC Cluster Admin on this cluster. */
  readonly deployer: { readonly objectId: pulumi.Input<string>; readonly principalType: PrincipalType };
  /** Free or Standard. */
  readonly skuTier: "Free" | "Standard";
  /** Registry the kubelet pulls from (AcrPull on it). */
  readonly registryId: pulumi.Input<string>;
}

/** Registers a preview feature the way the AKS docs do (az feature register, wait, az provider register). */
export const registerFeatureScript = readFileSync(join(__dirname, "..", "scripts", "aks", "register-feature.sh"), "utf8");
/** Asks the cluster until the deployer's Azure RBAC grant works (kubectl auth can-i, bounded). */
export const clusterAccessScript = readFileSync(join(__dirname, "..", "scripts", "aks", "wait-for-cluster-access.sh"), "utf8");
/** scripts/aks/add-pod-identity.sh: binds (add) or unbinds (remove) a pod identity with the add-on. */
export const podIdentityScript = readFileSync(join(__dirname, "..", "scripts", "aks", "add-pod-identity.sh"), "utf8");

/** Name of the demo's pod identity, binding selector and service account (as `az aks pod-identity add --name`). */
export const demoIdentityName = "keyless-demo";

/**
 * An AKS cluster where pods reach Azure with a managed identity and no secret: Entra ID with Azure
 * RBAC, local accounts off, Azure CNI with a network policy, kubelet pulling from ACR by identity,
 * and a demo pod identity (Workload Identity, or the hand-made flow's AAD Pod Identity add-on).
 */
export class AksCluster extends pulumi.ComponentResource {
  /** The Kubernetes provider for this cluster (kubelogin exec); its children use it. */
  public readonly provider: KubernetesProvider;
  /** Cluster ARM id. */
  public readonly clusterId: pulumi.Output<string>;
  /** Cluster name. */
  public readonly clusterName: pulumi.Output<string>;
  /** Resource group AKS puts the nodes in. */
  public readonly nodeResourceGroup: pulumi.Output<string>;
  /** OIDC issuer URL (federated credentials trust it). */
  public readonly oidcIssuerUrl: pulumi.Output<string>;
  /** Kubeconfig (kubelogin exec), a secret. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** The demo pod's identity. */
  public readonly podIdentity: UserIdentity;

  constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:aks:AksCluster", name, {}, opts);
    const aadPodIdentity = args.podIdentity === "aad-pod-identity";
    if (aadPodIdentity) {
      pulumi.log.warn(
        "keyless:aks.podIdentity is aad-pod-identity: the AAD Pod Identity add-on is deprecated (project archived 2023, AKS support ended September 2025). Migrate to workload-identity (docs/aks.md, 'Switching modes').",
        this,
      );
    }
    const groupName = resourceGroupName(args.names, "aks");
    const group = new ResourceGroup(`${name}-rg`, { resourceGroupName: groupName, location: args.location, tags: { ...args.tags } }, { parent: this, dependsOn: opts?.dependsOn });

    // The pod identity exists before the cluster: the add-on's podIdentityProfile names it.
    this.podIdentity = new UserIdentity(
      `${name}-pod`,
      { identityName: scopedName("id", args.names, "pod"), resourceGroupName: group.name, location: args.location, tags: args.tags },
      { parent: this, dependsOn: opts?.dependsOn },
    );

    const clusterDeps: pulumi.Resource[] = [];
    let controlPlane: UserIdentity | undefined;
    if (aadPodIdentity) {
      // The hand-made AKS pod identity flow: az feature register --name EnablePodIdentityPreview --namespace Microsoft.ContainerService,
      // as a command: azure-native's SubscriptionFeatureRegistration fails on create when the feature
      // exists (pulumi/pulumi-azure-native#1722), returns while still Registering, and unregisters the
      // feature subscription-wide on destroy. No delete command: destroy leaves the feature registered.
      clusterDeps.push(
        new local.Command(
          `${name}-pod-identity-feature-registration`,
          {
            create: registerFeatureScript,
            update: registerFeatureScript,
            interpreter: ["/bin/bash", "-c"],
            environment: { SUBSCRIPTION_ID: pulumi.output(args.subscriptionId), FEATURE_NAMESPACE: "Microsoft.ContainerService", FEATURE_NAME: "EnablePodIdentityPreview" },
          },
          { parent: this, dependsOn: opts?.dependsOn, customTimeouts: { create: "40m", update: "40m" } },
        ),
      );
      // The add-on's controller runs as the cluster's own (control-plane) identity and must hold Managed
      // Identity Operator on every pod identity: that is what `az aks pod-identity add` grants
      // (Azure/azure-cli-extensions src/aks-preview/azext_aks_preview/_podidentity.py,
      // `_ensure_managed_identity_operator_permission`: the cluster's user- or system-assigned identity).
      // A system-assigned identity exists only after the cluster, so the cluster gets a user-assigned
      // control-plane identity, granted before the cluster binds the pod identity. The kubelet identity
      // stays AKS-managed: only a pre-created kubelet identity would need Managed Identity Operator for
      // the control-plane identity (learn.microsoft.com/azure/aks/use-managed-identity,
      // "pre-created kubelet managed identity"), and AKS grants what it needs in its node resource group.
      controlPlane = new UserIdentity(
        `${name}-control-plane`,
        {
          identityName: scopedName("id", args.names, "aks"),
          resourceGroupName: group.name,
          location: args.location,
          tags: args.tags,
          grants: {
            "pod-identity-operator": { role: "Managed Identity Operator", scope: this.podIdentity.id, description: "AAD Pod Identity add-on assigns the pod identity to the nodes" },
          },
        },
        { parent: this, dependsOn: opts?.dependsOn },
      );
      clusterDeps.push(controlPlane);
    }

    const clusterArgs: ManagedClusterArgs = {
      resourceName: scopedName("aks", args.names),
      resourceGroupName: group.name,
      location: args.location,
      dnsPrefix: scopedName("aks", args.names),
      kubernetesVersion: args.kubernetesVersion,
      // Named rather than MC_<rg>_<cluster>_<region> so it is predictable; read back from the output for grants.
      nodeResourceGroup: `${groupName}-nodes`,
      identity: controlPlane
        ? { type: ResourceIdentityType.UserAssigned, userAssignedIdentities: [controlPlane.id] }
        : { type: ResourceIdentityType.SystemAssigned },
      sku: { name: "Base", tier: args.skuTier },
      enableRBAC: true,
      // Entra ID with Azure RBAC, and no local (certificate) admin account to leak.
      aadProfile: { managed: true, enableAzureRBAC: true, tenantID: args.tenantId, adminGroupObjectIDs: [...args.adminGroupObjectIds] },
      disableLocalAccounts: true,
      agentPoolProfiles: [
        {
          name: "system",
          mode: "System",
          count: args.nodeCount,
          vmSize: args.nodeVmSize,
          osType: "Linux",
          osSKU: "Ubuntu",
          osDiskType: "Managed",
          osDiskSizeGB: 128,
          type: "VirtualMachineScaleSets",
          maxPods: 30,
          enableNodePublicIP: false,
          upgradeSettings: { maxSurge: "33%" },
        },
      ],
      // Azure CNI (the add-on requires it; kubenet only with an opt-in) with Calico network policy,
      // supported on Azure CNI (azure-aks-docs articles/aks/use-network-policies.md).
      networkProfile: { networkPlugin: "azure", networkPolicy: "calico", loadBalancerSku: "standard", outboundType: "loadBalancer" },
      // Always sent, empty for "open": AKS keeps the ranges it has when the profile is left out of an
      // update, so removing the last range would change nothing (crossplane-contrib/provider-upjet-azure#507);
      // an empty list is what `az aks update --api-server-authorized-ip-ranges ""` sends to disable them
      // (azure-aks-docs articles/aks/api-server-authorized-ip-ranges.md) and mspnp/aks-baseline's default.
      apiServerAccessProfile: { authorizedIPRanges: [...args.apiServerAuthorizedIpRanges] },
      // The issuer stays on in both modes: it cannot be turned off once on, and a later switch to
      // Workload Identity then needs no cluster-level change besides the webhook.
      oidcIssuerProfile: { enabled: true },
      securityProfile: aadPodIdentity ? undefined : { workloadIdentity: { enabled: true } },
      // The add-on only: AKS refuses pod identities in the request that creates the cluster
      // (PodIdentityAddonUserAssignedIdentitiesNotAllowedInCreation: Azure/AKS#2199,
      // pulumi/pulumi-azure-native#1298), so the demo identity is bound afterwards (below).
      podIdentityProfile: aadPodIdentity ? { enabled: true } : undefined,
      autoUpgradeProfile: { upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" },
      tags: aadPodIdentity ? { ...args.tags, [podIdentityAcknowledgedTag]: "true" } : { ...args.tags },
    };
    const cluster = new ManagedCluster(
      `${name}-aks`,
      clusterArgs,
      {
        parent: this,
        dependsOn: [...clusterDeps, ...((opts?.dependsOn as pulumi.Resource[] | undefined) ?? [])],
        // No customTimeouts: azure-native waits up to 2 hours by default (provider.go azureContext),
        // enough for an AKS create or upgrade; a shorter one would cut a slow rolling upgrade short.
        // The add-on's bindings are made outside this resource (below). Should a refresh copy them into
        // the stored inputs, keep them there, so a later update sends them back instead of dropping them.
        // (A replacement would then send them in the create request, which AKS refuses: docs/aks.md.)
        ...(aadPodIdentity ? { ignoreChanges: ["podIdentityProfile.userAssignedIdentities"] } : {}),
      },
    );

    const kubelet = cluster.identityProfile.apply((p) => p?.kubeletidentity);
    this.nodeResourceGroup = cluster.nodeResourceGroup.apply((g) => g ?? `${groupName}-nodes`);
    const nodeGroupScope = pulumi.interpolate`/subscriptions/${args.subscriptionId}/resourceGroups/${this.nodeResourceGroup}`;

    grantRole(
      `${name}-kubelet-acrpull`,
      { scope: args.registryId, principalId: kubelet.apply((k) => k?.objectId ?? ""), principalType: "ServicePrincipal", role: "AcrPull", description: "AKS kubelet pulls images" },
      { parent: this },
    );
    const deployerAdmin = grantRole(
      `${name}-deployer-cluster-admin`,
      { scope: cluster.id, principalId: args.deployer.objectId, principalType: args.deployer.principalType, role: "Azure Kubernetes Service RBAC Cluster Admin", description: "pulumi up applies the demo workload" },
      { parent: this },
    );
    // The demo only reads the node VMs and scale sets (scripts/aks/list-node-vms.sh: az vm list, az vmss
    // list; the aad-pod-identity demo image lists VMs), so Reader on the node resource group, what the
    // aad-pod-identity project's own demo grants its identity on the node resource group (Azure/aad-pod-identity
    // docs, Demo > Standard Walkthrough: "Assign the role Reader to the identity"), not
    // the Virtual Machine Contributor the hand-made flow grants: that role can also start, stop,
    // redeploy and reconfigure every node. Renamed from
    // pod-vm-contributor; the alias makes an existing stack replace that grant instead of adding one.
    const podNodeReader = grantRole(
      `${name}-pod-node-reader`,
      { scope: nodeGroupScope, principalId: this.podIdentity.principalId, principalType: "ServicePrincipal", role: "Reader", description: "demo pod lists the node VMs" },
      { parent: this, aliases: [{ name: `${name}-pod-vm-contributor` }] },
    );

    this.oidcIssuerUrl = cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? "");
    const serviceAccount = demoIdentityName;
    // What the demo pod needs before it runs: its grant and, with Workload Identity, its federated credential.
    const podWaitsFor: pulumi.Resource[] = [podNodeReader];
    if (!aadPodIdentity) {
      const federation = new FederatedIdentityCredential(
        `${name}-pod-federation`,
        {
          resourceGroupName: group.name,
          resourceName: this.podIdentity.identity.name,
          federatedIdentityCredentialResourceName: `${args.demoNamespace}-${serviceAccount}`,
          issuer: this.oidcIssuerUrl,
          subject: `system:serviceaccount:${args.demoNamespace}:${serviceAccount}`,
          audiences: ["api://AzureADTokenExchange"],
        },
        { parent: this },
      );
      podWaitsFor.push(federation);
    } else {
      // Bind the pod identity as the hand-made flow does (az aks pod-identity add), after the cluster and
      // after the control-plane identity's Managed Identity Operator grant on it. Pulumi's own writes
      // of the cluster do not carry the binding, so the add runs again whenever the cluster's inputs
      // change (CLUSTER_INPUTS, a digest of them: AKS returns no systemData to follow); it is a no-op
      // when the binding is there. Another identity or namespace replaces the command: the old binding
      // is removed first. Removed on destroy before the cluster goes.
      const environment = {
        SUBSCRIPTION_ID: pulumi.output(args.subscriptionId),
        RESOURCE_GROUP: group.name,
        CLUSTER_NAME: cluster.name,
        POD_IDENTITY_NAMESPACE: args.demoNamespace,
        POD_IDENTITY_NAME: demoIdentityName,
        IDENTITY_RESOURCE_ID: this.podIdentity.id,
        CLUSTER_INPUTS: pulumi.output(clusterArgs).apply((a) => createHash("sha256").update(JSON.stringify(a)).digest("hex")),
      };
      const addBinding = `set -- add\n${podIdentityScript}`;
      podWaitsFor.push(
        new local.Command(
          `${name}-pod-identity-binding`,
          {
            create: addBinding,
            update: addBinding,
            delete: `set -- remove\n${podIdentityScript}`,
            interpreter: ["/bin/bash", "-c"],
            environment,
            triggers: [environment.POD_IDENTITY_NAMESPACE, environment.IDENTITY_RESOURCE_ID],
          },
          // The add updates the cluster (minutes, like any AKS update).
          { parent: this, dependsOn: [cluster, ...(controlPlane ? [controlPlane] : [])], deleteBeforeReplace: true, customTimeouts: { create: "45m", update: "45m", delete: "45m" } },
        ),
      );
    }

    const credentials = listManagedClusterUserCredentialsOutput(
      { resourceGroupName: group.name, resourceName: cluster.name, format: "exec" },
      { parent: this },
    );
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([credentials.kubeconfigs, args.tenantId])
        .apply(([configs, tenant]) => withKubeloginMode(Buffer.from(configs[0]?.value ?? "", "base64").toString("utf8"), args.kubeloginMode, tenant)),
    );
    this.provider = new KubernetesProvider(`${name}-k8s`, { kubeconfig: this.kubeconfig, enableServerSideApply: true }, { parent: this });

    // The deployer's AKS RBAC Cluster Admin assignment takes up to 5 minutes to reach the API server
    // (learn.microsoft.com/azure/aks/manage-azure-rbac): ask the cluster, with the same kubeconfig and
    // kubelogin as the provider, until it answers yes (bounded), before any Kubernetes object.
    // The namespace (a validated DNS label) is set in the script, not in `environment`: Pulumi keeps
    // the whole environment secret once one value (the kubeconfig) is.
    const accessScript = `NAMESPACE='${args.demoNamespace}'\n${clusterAccessScript}`;
    const clusterAccess = new local.Command(
      `${name}-cluster-access`,
      {
        create: accessScript,
        update: accessScript,
        interpreter: ["/bin/bash", "-c"],
        environment: { KUBECONFIG_DATA: this.kubeconfig },
        // A new grant (re-created cluster or principal) asks again.
        triggers: [deployerAdmin.id],
      },
      { parent: this, dependsOn: [deployerAdmin], customTimeouts: { create: "15m", update: "15m" } },
    );

    new AksDemo(
      `${name}-demo`,
      {
        mode: args.podIdentity,
        namespace: args.demoNamespace,
        identityName: demoIdentityName,
        clientId: this.podIdentity.clientId,
        tenantId: args.tenantId,
        subscriptionId: args.subscriptionId,
        nodeResourceGroup: this.nodeResourceGroup,
        podWaitsFor,
      },
      // Every Kubernetes object waits for the deployer's grant and for the cluster to honour it.
      { parent: this, providers: [this.provider], dependsOn: [deployerAdmin, clusterAccess] },
    );

    this.clusterId = cluster.id;
    this.clusterName = cluster.name;
    this.registerOutputs({ clusterId: this.clusterId, clusterName: this.clusterName, nodeResourceGroup: this.nodeResourceGroup, oidcIssuerUrl: this.oidcIssuerUrl, kubeconfig: this.kubeconfig });
  }
}
