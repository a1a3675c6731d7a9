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
}

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
    const ns = new corev1.Namespace(`${name}-ns`, { metadata: { name: args.namespace } }, { parent: this });
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
        { parent: this },
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
        { parent: this },
      );
      const script = new corev1.ConfigMap(
        `${name}-script`,
        { metadata: { name: "keyless-demo-script", namespace: ns.metadata.name }, data: { "list-node-vms.sh": listNodeVmsScript } },
        { parent: this },
      );
      pod = new corev1.Pod(
        `${name}-pod`,
        {
          metadata: { name: "demo", namespace: ns.metadata.name, labels: { "azure.workload.identity/use": "true" } },
          spec: {
            serviceAccountName: sa.metadata.name,
            restartPolicy: "Never",
            containers: [
              {
                name: "demo",
                image: azureCliImage,
                command: ["bash", "/scripts/list-node-vms.sh"],
                env: [
                  { name: "SUBSCRIPTION_ID", value: args.subscriptionId },
                  { name: "NODE_RESOURCE_GROUP", value: args.nodeResourceGroup },
                ],
                volumeMounts: [{ name: "script", mountPath: "/scripts", readOnly: true }],
                securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000 },
              },
            ],
            volumes: [{ name: "script", configMap: { name: script.metadata.name } }],
            nodeSelector: linux,
          },
        },
        { parent: this },
      );
    }
    this.podName = pod.metadata.name;
    this.registerOutputs({ podName: this.podName });
  }
}
