import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as corev1 from "@pulumi/kubernetes/core/v1";

/** The workload-identity demo script, a real file (shellcheck-clean, tested with a stub az). */
export const listNodeVmsScript = readFileSync(join(__dirname, "..", "scripts", "aks", "list-node-vms.sh"), "utf8");

/** The hand-made AKS pod identity flow's demo image (aad-pod-identity). */
export const aadPodIdentityDemoImage = "mcr.microsoft.com/oss/azure/aad-pod-identity/demo:v1.6.3";
/** Azure CLI image for the workload-identity demo (Microsoft's, pinned). */
export const azureCliImage = "mcr.microsoft.com/azure-cli:2.67.0";

export interface AksDemoArgs {
  /** Which identity mechanism the pod uses. */
  readonly mode: "workload-identity" | "aad-pod-identity";
  /** Namespace of the demo. */
  readonly namespace: string;
  /** Pod identity / binding / service account name. */
  readonly identityName: string;
  /** Client id of the pod's user-assigned identity. */
  readonly clientId: pulumi.Input<string>;
  /** Entra tenant. */
  readonly tenantId: pulumi.Input<string>;
  /** Subscription of the node resource group. */
  readonly subscriptionId: pulumi.Input<string>;
  /** The cluster's node resource group (read from the cluster). */
  readonly nodeResourceGroup: pulumi.Input<string>;
  /** What the pod needs in Azure before it runs: the grants its identity uses and its federated credential. */
  readonly podWaitsFor?: readonly pulumi.Resource[];
}

/** Seconds the demo retries login and listing while a new grant or federated credential propagates. */
export const demoRetrySeconds = 600;

/**
 * The demo pod that proves a pod reaches Azure with a managed identity and no secret: the hand-made AKS pod identity flow's
 * aad-pod-identity demo as is, or its Workload Identity equivalent. Uses the cluster's provider,
 * handed down by AksCluster through `providers`.
 */
export class AksDemo extends pulumi.ComponentResource {
  /** Name of the demo pod (`kubectl logs <pod> -n <namespace>` shows the result). */
  public readonly podName: pulumi.Output<string>;

  constructor(name: string, args: AksDemoArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:aks:AksDemo", name, {}, opts);
    // A child does not inherit its component's dependsOn: each object waits for what the cluster part
    // hands in (the deployer's grant and the cluster access check) itself.
    const child = { parent: this, dependsOn: opts?.dependsOn };
    const podOpts = pulumi.mergeOptions(child, {
      dependsOn: [...(args.podWaitsFor ?? [])],
      // The script retries for demoRetrySeconds; the pod's await must outlast it.
      customTimeouts: { create: "15m", update: "15m" },
    });
    // The pod identity add-on creates the namespace of each pod identity itself (label
    // addonmanager.kubernetes.io/mode: EnsureExists; Azure/aad-pod-identity#1204, Azure/AKS#2852), and
    // @pulumi/kubernetes >= 4.29 creates objects client-side, failing with AlreadyExists on an existing
    // one (pulumi-kubernetes CHANGELOG 4.29.0, #2926). With the add-on the namespace is only patched
    // (server-side apply: created if missing, left to the add-on on destroy); otherwise Pulumi owns it.
    const ns =
      args.mode === "aad-pod-identity"
        ? new corev1.NamespacePatch(`${name}-ns`, { metadata: { name: args.namespace } }, child)
        : new corev1.Namespace(`${name}-ns`, { metadata: { name: args.namespace } }, child);
    const linux = { "kubernetes.io/os": "linux" };
    let pod: corev1.Pod;
    if (args.mode === "aad-pod-identity") {
      // The hand-made AKS pod identity flow's demo.yaml: the label binds the pod to the AzureIdentity the add-on created.
      pod = new corev1.Pod(
        `${name}-pod`,
        {
          metadata: { name: "demo", namespace: ns.metadata.name, labels: { aadpodidbinding: args.identityName } },
          spec: {
            containers: [
              {
                name: "demo",
                image: aadPodIdentityDemoImage,
                args: [
                  pulumi.interpolate`--subscriptionid=${args.subscriptionId}`,
                  pulumi.interpolate`--clientid=${args.clientId}`,
                  pulumi.interpolate`--resourcegroup=${args.nodeResourceGroup}`,
                ],
                env: [
                  { name: "MY_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                  { name: "MY_POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                  { name: "MY_POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
                ],
              },
            ],
            nodeSelector: linux,
          },
        },
        podOpts,
      );
    } else {
      const sa = new corev1.ServiceAccount(
        `${name}-sa`,
        {
          metadata: {
            name: args.identityName,
            namespace: ns.metadata.name,
            annotations: { "azure.workload.identity/client-id": args.clientId, "azure.workload.identity/tenant-id": args.tenantId },
          },
        },
        child,
      );
      const script = new corev1.ConfigMap(
        `${name}-script`,
        { metadata: { name: "keyless-demo-script", namespace: ns.metadata.name }, data: { "list-node-vms.sh": listNodeVmsScript } },
        child,
      );
      pod = new corev1.Pod(
        `${name}-pod`,
        {
          metadata: { name: "demo", namespace: ns.metadata.name, labels: { "azure.workload.identity/use": "true" } },
          spec: {
            serviceAccountName: sa.metadata.name,
            // A failure stays visible: the container exits non-zero, the pod ends Failed and `pulumi up`
            // reports it. Re-run with `pulumi up --replace <pod urn>` (docs/aks.md).
            restartPolicy: "Never",
            containers: [
              {
                name: "demo",
                image: azureCliImage,
                command: ["bash", "/scripts/list-node-vms.sh"],
                env: [
                  { name: "SUBSCRIPTION_ID", value: args.subscriptionId },
                  { name: "NODE_RESOURCE_GROUP", value: args.nodeResourceGroup },
                  // The image's user has no writable home as uid 1000: az keeps its login in $HOME/.azure.
                  { name: "HOME", value: "/home/demo" },
                  { name: "RETRY_SECONDS", value: String(demoRetrySeconds) },
                ],
                volumeMounts: [
                  { name: "script", mountPath: "/scripts", readOnly: true },
                  { name: "home", mountPath: "/home/demo" },
                ],
                securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000 },
              },
            ],
            volumes: [
              { name: "script", configMap: { name: script.metadata.name } },
              { name: "home", emptyDir: {} },
            ],
            nodeSelector: linux,
          },
        },
        podOpts,
      );
    }
    this.podName = pod.metadata.name;
    this.registerOutputs({ podName: this.podName });
  }
}
