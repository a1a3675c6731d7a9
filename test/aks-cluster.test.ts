import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { clusterAccessScript, podIdentityScript, registerFeatureScript } from "../components/aks-cluster";
import { listNodeVmsScript } from "../components/aks-demo";
import type { Plan } from "../tools/plan/engine";
import { grantRows } from "../tools/plan/grants";
import { mockDeployerObjectId, mockSubscriptionId } from "../tools/plan/mocks";
import { readStackConfig } from "../tools/plan/stack-file";
import { ofType, planProgram, planStack, resource, root, transitiveDependencies } from "./support/harness";

const sub = `/subscriptions/${mockSubscriptionId}`;
let wi: Plan; // dev: workload identity
let aad: Plan; // stacks/aks-pod-identity.yaml: the hand-made flow's add-on
beforeAll(async () => {
  wi = await planStack("dev");
  const c = readStackConfig(join(root, "stacks/aks-pod-identity.yaml"));
  aad = await planProgram(c.values, { stack: "aks-pod-identity" });
});

const cluster = (p: Plan) => resource(p, "azure-native:containerservice:ManagedCluster", "aks-aks");
const grant = (p: Plan, name: string) => resource(p, "azure-native:authorization:RoleAssignment", name).inputs;
const guidOf = (i: Record<string, unknown>) => String(i.roleDefinitionId).split("/").pop();

describe("the cluster, in both modes", () => {
  it.each([["workload identity", () => wi], ["aad-pod-identity", () => aad]])("%s: Entra ID + Azure RBAC, no local accounts, Azure CNI with a network policy", (_, p) => {
    const i = cluster(p()).inputs;
    expect(i).toMatchObject({
      enableRBAC: true,
      disableLocalAccounts: true,
      aadProfile: { managed: true, enableAzureRBAC: true },
      networkProfile: { networkPlugin: "azure", networkPolicy: "calico", loadBalancerSku: "standard" },
      oidcIssuerProfile: { enabled: true },
    });
    expect((i.agentPoolProfiles as Record<string, unknown>[])[0]).toMatchObject({ mode: "System", count: 2, vmSize: "Standard_D2s_v5", osType: "Linux", enableNodePublicIP: false });
  });

  it("workload identity: the webhook on, no pod identity add-on", () => {
    const i = cluster(wi).inputs;
    expect(i.securityProfile).toEqual({ workloadIdentity: { enabled: true } });
    expect(i).not.toHaveProperty("podIdentityProfile");
    // No pinned version: AKS picks its default (a pinned minor leaves standard support within a year).
    expect(i).not.toHaveProperty("kubernetesVersion");
    expect(i.autoUpgradeProfile).toEqual({ upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" });
    expect(i.identity).toEqual({ type: "SystemAssigned" });
    // No ranges: an explicit empty list, so removing the last range opens the API server (AKS keeps the
    // old ranges when the profile is left out).
    expect(i.apiServerAccessProfile).toEqual({ authorizedIPRanges: [] });
  });

  it("aad-pod-identity: the add-on is enabled on the cluster, after the preview feature is registered, and is tagged as acknowledged", () => {
    const c = cluster(aad);
    // Nothing bound in the create request: AKS refuses that (PodIdentityAddonUserAssignedIdentitiesNotAllowedInCreation).
    expect(c.inputs.podIdentityProfile).toEqual({ enabled: true });
    expect(ofType(aad, "azure-native:features:SubscriptionFeatureRegistration")).toEqual([]);
    const feature = resource(aad, "command:local:Command", "aks-pod-identity-feature-registration");
    expect(feature.inputs).toMatchObject({
      create: registerFeatureScript,
      update: registerFeatureScript,
      interpreter: ["/bin/bash", "-c"],
      environment: { SUBSCRIPTION_ID: mockSubscriptionId, FEATURE_NAMESPACE: "Microsoft.ContainerService", FEATURE_NAME: "EnablePodIdentityPreview" },
    });
    // Never unregisters: no delete command.
    expect(feature.inputs).not.toHaveProperty("delete");
    expect(registerFeatureScript).toBe(readFileSync(join(root, "scripts/aks/register-feature.sh"), "utf8"));
    expect(c.dependencies).toContain(feature.urn);
    expect((c.inputs.tags as Record<string, string>)["keyless-pod-identity-acknowledged"]).toBe("true");
    expect(c.inputs.apiServerAccessProfile).toEqual({ authorizedIPRanges: ["203.0.113.0/24"] });
    expect(aad.warnings.some((w) => w.includes("AAD Pod Identity add-on is deprecated") && w.includes("workload-identity"))).toBe(true);
  });
});

describe("grants", () => {
  it("kubelet gets AcrPull on the registry only", () => {
    const g = grant(wi, "aks-kubelet-acrpull");
    expect(guidOf(g)).toBe("7f951dda-4ed3-4680-a7ca-43fe172d538d");
    expect(g.scope).toMatch(new RegExp(`^${sub}/resourceGroups/rg-keyless-dev-shared/providers/Microsoft.ContainerRegistry/registries/crkeylessdev[a-z0-9]{4}$`));
    expect(g.principalId).toBe((cluster(wi).outputs.identityProfile as { kubeletidentity: { objectId: string } }).kubeletidentity.objectId);
    expect(g.principalType).toBe("ServicePrincipal");
  });

  it("the pod identity gets Reader (it only lists the node VMs) on the node resource group read from the cluster", () => {
    const g = grant(wi, "aks-pod-node-reader");
    expect(guidOf(g)).toBe("acdd72a7-3385-48ef-bd42-f606fba81ae7");
    expect(g.scope).toBe(`${sub}/resourceGroups/${cluster(wi).outputs.nodeResourceGroup}`);
    expect(g.principalId).toBe(resource(wi, "azure-native:managedidentity:UserAssignedIdentity", "aks-pod-id").outputs.principalId);
  });

  it("the deploying principal gets AKS RBAC Cluster Admin on the cluster, with its configured principal type", () => {
    expect(grant(wi, "aks-deployer-cluster-admin")).toMatchObject({ scope: cluster(wi).outputs.id, principalId: mockDeployerObjectId, principalType: "ServicePrincipal" });
    expect(guidOf(grant(wi, "aks-deployer-cluster-admin"))).toBe("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b");
    expect(grant(aad, "aks-deployer-cluster-admin").principalType).toBe("ServicePrincipal");
  });

  it("aad-pod-identity only: the cluster's own identity, user-assigned and granted before the cluster, holds Managed Identity Operator on the pod identity (what az aks pod-identity add grants)", () => {
    const cp = resource(aad, "azure-native:managedidentity:UserAssignedIdentity", "aks-control-plane-id");
    expect(cp.inputs).toMatchObject({ resourceName: "id-keyless-podid-aks", resourceGroupName: "rg-keyless-podid-aks" });
    const g = grant(aad, "aks-control-plane-pod-identity-operator");
    expect(guidOf(g)).toBe("f1a07417-d97a-45cb-824c-7a7467783830");
    expect(g.scope).toBe(resource(aad, "azure-native:managedidentity:UserAssignedIdentity", "aks-pod-id").outputs.id);
    expect(g.principalId).toBe(cp.outputs.principalId);
    expect(g.principalType).toBe("ServicePrincipal");
    const c = cluster(aad);
    expect(c.inputs.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: [cp.outputs.id] });
    // The grant exists before the cluster binds the pod identity.
    expect(transitiveDependencies(aad, c.urn)).toContain(resource(aad, "azure-native:authorization:RoleAssignment", "aks-control-plane-pod-identity-operator").urn);
    // Not the kubelet: the add-on's controller runs as the cluster identity.
    const names = [...ofType(aad, "azure-native:authorization:RoleAssignment"), ...ofType(wi, "azure-native:authorization:RoleAssignment")].map((r) => r.name);
    expect(names).not.toContain("aks-kubelet-identity-operator");
    expect(names.filter((n) => n.includes("identity-operator"))).toEqual(["aks-control-plane-pod-identity-operator"]);
  });
});

describe("workload identity federation and the demo", () => {
  it("trusts exactly the cluster's issuer and the demo service account", () => {
    const fic = resource(wi, "azure-native:managedidentity:FederatedIdentityCredential", "aks-pod-federation");
    expect(fic.inputs).toMatchObject({
      issuer: (cluster(wi).outputs.oidcIssuerProfile as { issuerURL: string }).issuerURL,
      subject: "system:serviceaccount:demo:keyless-demo",
      audiences: ["api://AzureADTokenExchange"],
      resourceName: "id-keyless-dev-pod",
    });
    expect(ofType(aad, "azure-native:managedidentity:FederatedIdentityCredential")).toEqual([]);
  });

  it("the workload-identity pod uses the annotated service account and runs the script file", () => {
    const sa = resource(wi, "kubernetes:core/v1:ServiceAccount", "aks-demo-sa");
    const clientId = resource(wi, "azure-native:managedidentity:UserAssignedIdentity", "aks-pod-id").outputs.clientId;
    expect((sa.inputs.metadata as { annotations: Record<string, string> }).annotations["azure.workload.identity/client-id"]).toBe(clientId);
    const pod = resource(wi, "kubernetes:core/v1:Pod", "aks-demo-pod").inputs as any;
    expect(pod.metadata.labels).toEqual({ "azure.workload.identity/use": "true" });
    expect(pod.spec.serviceAccountName).toBe("keyless-demo");
    expect(pod.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(pod.spec.containers[0].env).toEqual([
      { name: "SUBSCRIPTION_ID", value: mockSubscriptionId },
      { name: "NODE_RESOURCE_GROUP", value: "rg-keyless-dev-aks-nodes" },
      { name: "HOME", value: "/home/demo" },
      { name: "RETRY_SECONDS", value: "600" },
    ]);
    // az runs as uid 1000: its HOME is a writable emptyDir.
    expect(pod.spec.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: "home", mountPath: "/home/demo" });
    expect(pod.spec.volumes).toContainEqual({ name: "home", emptyDir: {} });
    expect((resource(wi, "kubernetes:core/v1:ConfigMap", "aks-demo-script").inputs as any).data["list-node-vms.sh"]).toBe(readFileSync(join(root, "scripts/aks/list-node-vms.sh"), "utf8"));
    // The token is read by az itself (@file), never put on a command line.
    expect(listNodeVmsScript).toContain('--federated-token "@$AZURE_FEDERATED_TOKEN_FILE"');
    expect(listNodeVmsScript).not.toContain("$(cat");
  });

  it("aad-pod-identity: the pod identity is bound after the cluster (az aks pod-identity add), again whenever Pulumi wrote the cluster, and removed on destroy", () => {
    const c = cluster(aad);
    const id = resource(aad, "azure-native:managedidentity:UserAssignedIdentity", "aks-pod-id");
    const binding = resource(aad, "command:local:Command", "aks-pod-identity-binding");
    expect(binding.inputs).toEqual({
      create: `set -- add\n${podIdentityScript}`,
      update: `set -- add\n${podIdentityScript}`,
      delete: `set -- remove\n${podIdentityScript}`,
      interpreter: ["/bin/bash", "-c"],
      environment: {
        SUBSCRIPTION_ID: mockSubscriptionId,
        RESOURCE_GROUP: "rg-keyless-podid-aks",
        CLUSTER_NAME: c.outputs.name,
        POD_IDENTITY_NAMESPACE: "demo",
        POD_IDENTITY_NAME: "keyless-demo",
        IDENTITY_RESOURCE_ID: id.outputs.id,
        CLUSTER_INPUTS: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      // Another namespace or identity: the old binding is removed, then the new one made.
      triggers: ["demo", id.outputs.id],
    });
    expect(binding.deleteBeforeReplace).toBe(true);
    // A refresh that copies the binding into the cluster's stored inputs does not make the next update drop it.
    expect(aad.ignoreChanges?.[c.urn]).toEqual(["podIdentityProfile.userAssignedIdentities"]);
    expect(wi.ignoreChanges?.[cluster(wi).urn]).toBeUndefined();
    expect(podIdentityScript).toBe(readFileSync(join(root, "scripts/aks/add-pod-identity.sh"), "utf8"));
    const deps = transitiveDependencies(aad, binding.urn);
    expect(deps).toContain(c.urn);
    expect(deps).toContain(resource(aad, "azure-native:authorization:RoleAssignment", "aks-control-plane-pod-identity-operator").urn);
    expect(transitiveDependencies(aad, resource(aad, "kubernetes:core/v1:Pod", "aks-demo-pod").urn)).toContain(binding.urn);
    expect(() => resource(wi, "command:local:Command", "aks-pod-identity-binding")).toThrow(/found 0/);
  });

  it("aad-pod-identity: the grants table knows the bound identity is the pods' (and the control-plane identity is not)", () => {
    const rows = grantRows(aad);
    expect(rows.find((r) => r.role === "Reader")).toMatchObject({ holder: "id-keyless-podid-pod (user-assigned identity)", workload: "AKS pod", workloadName: "pods bound by AAD Pod Identity (aks-keyless-podid)" });
    expect(rows.find((r) => r.role === "Managed Identity Operator")).toMatchObject({ holder: "id-keyless-podid-aks (user-assigned identity)", workload: "user-assigned identity" });
  });

  it("aad-pod-identity: the binding runs again when, and only when, the cluster's inputs change", async () => {
    const c = readStackConfig(join(root, "stacks/aks-pod-identity.yaml"));
    const digest = (p: Plan) => (resource(p, "command:local:Command", "aks-pod-identity-binding").inputs.environment as Record<string, string>).CLUSTER_INPUTS;
    const aks = JSON.parse(c.values["keyless:aks"]) as Record<string, unknown>;
    const again = await planProgram(c.values, { stack: "aks-pod-identity" });
    const resized = await planProgram({ ...c.values, "keyless:aks": JSON.stringify({ ...aks, nodeCount: 3 }) }, { stack: "aks-pod-identity" });
    expect(digest(again)).toBe(digest(aad));
    expect(digest(resized)).not.toBe(digest(aad));
  });

  it("aad-pod-identity: the add-on creates the demo namespace, so it is patched, not created (a create would fail with AlreadyExists)", () => {
    expect(ofType(aad, "kubernetes:core/v1:Namespace")).toEqual([]);
    const ns = resource(aad, "kubernetes:core/v1:NamespacePatch", "aks-demo-ns");
    expect(ns.inputs.metadata).toEqual({ name: "demo" });
    expect((resource(aad, "kubernetes:core/v1:Pod", "aks-demo-pod").inputs as any).metadata.namespace).toBe("demo");
    // Workload Identity: nothing else creates it, Pulumi owns it.
    expect(resource(wi, "kubernetes:core/v1:Namespace", "aks-demo-ns").inputs.metadata).toEqual({ name: "demo" });
  });

  it("the aad-pod-identity pod is the hand-made AKS pod identity flow's demo: label, image, args, fieldRef env, Linux node", () => {
    const pod = resource(aad, "kubernetes:core/v1:Pod", "aks-demo-pod").inputs as any;
    const clientId = resource(aad, "azure-native:managedidentity:UserAssignedIdentity", "aks-pod-id").outputs.clientId;
    expect(pod.metadata.labels).toEqual({ aadpodidbinding: "keyless-demo" });
    expect(pod.spec.containers[0].image).toBe("mcr.microsoft.com/oss/azure/aad-pod-identity/demo:v1.6.3");
    expect(pod.spec.containers[0].args).toEqual([`--subscriptionid=${mockSubscriptionId}`, `--clientid=${clientId}`, "--resourcegroup=rg-keyless-podid-aks-nodes"]);
    expect(pod.spec.containers[0].env.map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath])).toEqual([
      ["MY_POD_NAME", "metadata.name"],
      ["MY_POD_NAMESPACE", "metadata.namespace"],
      ["MY_POD_IP", "status.podIP"],
    ]);
    expect(pod.spec.nodeSelector).toEqual({ "kubernetes.io/os": "linux" });
  });

  it("Kubernetes resources use the cluster's provider, whose kubeconfig is a secret", () => {
    for (const r of wi.resources.filter((x) => x.type.startsWith("kubernetes:"))) expect(r.provider, r.urn).toMatch(/pulumi:providers:kubernetes::aks-k8s$/);
    expect(resource(wi, "pulumi:providers:kubernetes", "aks-k8s").inputs.kubeconfig).toBe("[secret]");
    expect((wi.outputs.aksCluster as Record<string, unknown>).kubeconfig).toBe("[secret]");
  });
});

describe("no false waits on AKS", () => {
  it("nothing outside the cluster's consumers has the ManagedCluster among its transitive dependencies", () => {
    for (const p of [wi, aad]) {
      const clusterUrn = cluster(p).urn;
      const waiting = p.resources.filter((r) => transitiveDependencies(p, r.urn).has(clusterUrn)).map((r) => r.name).sort();
      expect(waiting).toEqual(
        p === wi
          ? ["aks-cluster-access", "aks-demo", "aks-demo-ns", "aks-demo-pod", "aks-demo-script", "aks-demo-sa", "aks-deployer-cluster-admin", "aks-k8s", "aks-kubelet-acrpull", "aks-pod-federation", "aks-pod-node-reader"].sort()
          : ["aks-cluster-access", "aks-demo", "aks-demo-ns", "aks-demo-pod", "aks-deployer-cluster-admin", "aks-k8s", "aks-kubelet-acrpull", "aks-pod-identity-binding", "aks-pod-node-reader"].sort(),
      );
    }
  });
});

describe("deploy readiness", () => {
  it.each([["workload identity", () => wi], ["aad-pod-identity", () => aad]])("%s: every Kubernetes object waits for the deployer's grant and the cluster access check", (_, p) => {
    const plan = p();
    const admin = resource(plan, "azure-native:authorization:RoleAssignment", "aks-deployer-cluster-admin");
    const gate = resource(plan, "command:local:Command", "aks-cluster-access");
    const objects = plan.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:"));
    expect(objects.length).toBeGreaterThan(1);
    for (const o of objects) expect(o.dependencies, o.name).toEqual(expect.arrayContaining([admin.urn, gate.urn]));
    // The check runs after the grant, with the provider's kubeconfig (secret) in its environment, never on its command line.
    expect(gate.dependencies).toContain(admin.urn);
    expect(gate.inputs.create).toBe(`NAMESPACE='demo'\n${clusterAccessScript}`);
    expect(gate.inputs.environment).toEqual({ KUBECONFIG_DATA: "[secret]" });
    expect(clusterAccessScript).toContain("kubectl --kubeconfig \"$kubeconfig\" auth can-i create namespaces");
  });

  it("the demo pod waits for its identity's grant and federated credential", () => {
    const pod = resource(wi, "kubernetes:core/v1:Pod", "aks-demo-pod");
    expect(pod.dependencies).toEqual(
      expect.arrayContaining([resource(wi, "azure-native:authorization:RoleAssignment", "aks-pod-node-reader").urn, resource(wi, "azure-native:managedidentity:FederatedIdentityCredential", "aks-pod-federation").urn]),
    );
    expect(resource(aad, "kubernetes:core/v1:Pod", "aks-demo-pod").dependencies).toContain(resource(aad, "azure-native:authorization:RoleAssignment", "aks-pod-node-reader").urn);
  });
});
