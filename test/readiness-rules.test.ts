import { describe, expect, it } from "vitest";
import { roleDefinitionId } from "../lib/roles";
import { checkReadiness, type GraphResource, parentTypeOf, readinessRules } from "../policy/readiness";

// Each readiness rule: a compliant fixture, then one mutation per way it can fail, with the exact message.

// As the engine forms them: the root stack's type is not part of its children's URNs.
const urn = (chain: string[], name: string) => `urn:pulumi:t::keyless::${chain.join("$")}::${name}`;
const regs = "keyless:platform:ProviderRegistrations";
const aks = "keyless:aks:AksCluster";
const demo = "keyless:aks:AksDemo";

type R = GraphResource & { dependencies: string[] };
function r(chain: string[], name: string, inputs: Record<string, unknown> = {}, deps: string[] = [], outputs?: Record<string, unknown>): R {
  return { urn: urn(chain, name), type: chain[chain.length - 1], name, inputs, outputs, dependencies: deps };
}
const reg = (ns: string) => r([regs, "command:local:Command"], `reg-${ns.toLowerCase()}`, { create: `az provider register --namespace ${ns} --subscription s --wait` });

/** A compliant plan: registrations, a cluster with the pod identity add-on, its feature, grants, gate, objects, a VM check. */
function fixture(): Map<string, R> {
  const rStorage = reg("Microsoft.Storage");
  const rCs = reg("Microsoft.ContainerService");
  const rMi = reg("Microsoft.ManagedIdentity");
  const rCompute = reg("Microsoft.Compute");
  const rNetwork = reg("Microsoft.Network");
  const st = r(["keyless:storage:BlobStorage", "azure-native:storage:StorageAccount"], "st", {}, [rStorage.urn]);
  const identity = r([aks, "azure-native:managedidentity:UserAssignedIdentity"], "pod-id", { resourceName: "id-demo" }, [rMi.urn], { principalId: "pid-1", name: "id-demo" });
  const feature = r([aks, "command:local:Command"], "feature", { create: "#!/usr/bin/env bash\naz feature register ...", environment: { FEATURE_NAMESPACE: "Microsoft.ContainerService", FEATURE_NAME: "EnablePodIdentityPreview" } }, [rCs.urn]);
  const cluster = r([aks, "azure-native:containerservice:ManagedCluster"], "cluster", { podIdentityProfile: { enabled: true, userAssignedIdentities: [{ namespace: "demo" }] } }, [rCs.urn, rCompute.urn, rNetwork.urn, feature.urn, identity.urn], {
    identityProfile: { kubeletidentity: { objectId: "kubelet-1" } },
  });
  const admin = r([aks, "azure-native:authorization:RoleAssignment"], "deployer-admin", { principalId: "deployer-1", principalType: "User", roleDefinitionId: roleDefinitionId("s", "Azure Kubernetes Service RBAC Cluster Admin") }, [cluster.urn]);
  const kubeletGrant = r([aks, "azure-native:authorization:RoleAssignment"], "kubelet-acrpull", { principalId: "kubelet-1", principalType: "ServicePrincipal", roleDefinitionId: roleDefinitionId("s", "AcrPull") }, [cluster.urn]);
  const podGrant = r([aks, "azure-native:authorization:RoleAssignment"], "pod-vm", { principalId: "pid-1", principalType: "ServicePrincipal", roleDefinitionId: roleDefinitionId("s", "Virtual Machine Contributor") }, [identity.urn]);
  const fic = r([aks, "azure-native:managedidentity:FederatedIdentityCredential"], "pod-federation", { resourceName: "id-demo" }, [identity.urn, rMi.urn]);
  const gate = r([aks, "command:local:Command"], "cluster-access", { create: "kubectl auth can-i create namespaces" }, [admin.urn, rCs.urn]);
  const ns = r([aks, demo, "kubernetes:core/v1:Namespace"], "ns", {}, [admin.urn, gate.urn]);
  const sa = r([aks, demo, "kubernetes:core/v1:ServiceAccount"], "sa", {}, [admin.urn, gate.urn, identity.urn]);
  const pod = r([aks, demo, "kubernetes:core/v1:Pod"], "pod", { metadata: { labels: { "azure.workload.identity/use": "true" } } }, [admin.urn, gate.urn, sa.urn, podGrant.urn, fic.urn]);
  const vmId = r(["keyless:vm:ContainerHost", "azure-native:managedidentity:UserAssignedIdentity"], "vm-id", {}, [rMi.urn], { principalId: "pid-2" });
  const vmGrant = r(["keyless:vm:ContainerHost", "azure-native:authorization:RoleAssignment"], "vm-acrpull", { principalId: "pid-2", principalType: "ServicePrincipal", roleDefinitionId: roleDefinitionId("s", "AcrPull") }, [vmId.urn]);
  const vm = r(["keyless:vm:ContainerHost", "azure-native:compute:VirtualMachine"], "vm", {}, [vmId.urn, rCompute.urn]);
  const check = { ...r(["keyless:vm:ContainerHost", "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"], "vm-verify", {}, [vm.urn, vmGrant.urn, rCompute.urn]), deleteBeforeReplace: true };
  return new Map([rStorage, rCs, rMi, rCompute, rNetwork, st, identity, feature, cluster, admin, kubeletGrant, podGrant, fic, gate, ns, sa, pod, vmId, vmGrant, vm, check].map((x) => [x.name, x]));
}

const violations = (m: Map<string, R>) => checkReadiness([...m.values()]).map((v) => [v.rule, v.urn.split("::").pop(), v.message]);
const without = (x: R, dep: string) => ({ ...x, dependencies: x.dependencies.filter((d) => d !== dep) });

describe("readiness rules", () => {
  it("the compliant fixture passes every rule", () => {
    expect(violations(fixture())).toEqual([]);
  });

  it("every rule is named keyless-readiness-* and says why", () => {
    for (const rule of readinessRules) {
      expect(rule.name).toMatch(/^keyless-readiness-[a-z-]+$/);
      expect(rule.description.length).toBeGreaterThan(40);
    }
  });

  it("reads the component a resource belongs to from its URN", () => {
    expect(parentTypeOf(urn([aks, "command:local:Command"], "x"))).toBe(aks);
    expect(parentTypeOf(urn(["command:local:Command"], "x"))).toBeUndefined(); // a child of the stack
    expect(parentTypeOf("urn:pulumi:t::keyless::pulumi:pulumi:Stack::keyless-t")).toBeUndefined();
  });

  describe("keyless-readiness-provider-registration", () => {
    const rule = "keyless-readiness-provider-registration";
    it("a resource that does not wait for its namespace's registration", () => {
      const m = fixture();
      m.set("st", without(m.get("st") as R, (m.get("reg-microsoft.storage") as R).urn));
      expect(violations(m)).toEqual([[rule, "st", "does not wait for the registration of Microsoft.Storage (reg-microsoft.storage); Azure refuses it with MissingSubscriptionRegistration until then"]]);
    });
    it("an AKS cluster that waits for Microsoft.ContainerService but not for what it creates in its node resource group", () => {
      const m = fixture();
      const cluster = m.get("cluster") as R;
      m.set("cluster", without(without(cluster, (m.get("reg-microsoft.compute") as R).urn), (m.get("reg-microsoft.network") as R).urn));
      expect(violations(m)).toEqual([
        [rule, "cluster", "does not wait for the registration of Microsoft.Compute (reg-microsoft.compute); Azure refuses it with MissingSubscriptionRegistration until then"],
        [rule, "cluster", "does not wait for the registration of Microsoft.Network (reg-microsoft.network); Azure refuses it with MissingSubscriptionRegistration until then"],
      ]);
    });
    it("a command of a component that acts on a namespace (Arc onboarding) that does not wait", () => {
      const m = fixture();
      m.set("onboard", r(["keyless:arc:ArcFleet", "keyless:arc:ArcServer", "command:remote:Command"], "onboard", {}, []));
      for (const ns of ["Microsoft.GuestConfiguration", "Microsoft.HybridCompute", "Microsoft.HybridConnectivity"]) m.set(ns, reg(ns));
      expect(violations(m)).toEqual([
        [rule, "onboard", "does not wait for the registration of Microsoft.HybridCompute (reg-microsoft.hybridcompute); Azure refuses it with MissingSubscriptionRegistration until then"],
        [rule, "onboard", "does not wait for the registration of Microsoft.GuestConfiguration (reg-microsoft.guestconfiguration); Azure refuses it with MissingSubscriptionRegistration until then"],
        [rule, "onboard", "does not wait for the registration of Microsoft.HybridConnectivity (reg-microsoft.hybridconnectivity); Azure refuses it with MissingSubscriptionRegistration until then"],
      ]);
    });
    it("a namespace the plan never registers", () => {
      const m = fixture();
      m.delete("reg-microsoft.storage");
      m.set("st", { ...(m.get("st") as R), dependencies: [] });
      expect(violations(m)).toEqual([[rule, "st", "needs Microsoft.Storage registered, but the plan does not register it; add it to requiredNamespaces in lib/resource-providers.ts"]]);
    });
    it("a resource whose namespace nobody mapped", () => {
      const m = fixture();
      m.set("cdn", r(["azure-native:cdn:Profile"], "cdn"));
      m.set("cmd", r(["keyless:new:Thing", "command:local:Command"], "cmd"));
      expect(violations(m)).toEqual([
        [rule, "cdn", 'no resource provider namespace is known for azure-native module "cdn"; map it in lib/resource-providers.ts'],
        [rule, "cmd", "no resource provider namespace is known for command under keyless:new:Thing; map it in lib/resource-providers.ts"],
      ]);
    });
    it("registration off (no registrations in the plan): nothing to wait for", () => {
      const m = fixture();
      for (const k of [...m.keys()]) if (k.startsWith("reg-")) m.delete(k);
      expect(violations(m).filter(([r0]) => r0 === rule)).toEqual([]);
    });
  });

  describe("keyless-readiness-check-grants: the add-on's binding", () => {
    it("a pod bound through the add-on that does not wait for the binding command", () => {
      const m = fixture();
      const binding = r([aks, "command:local:Command"], "pod-identity-binding", { environment: { POD_IDENTITY_NAMESPACE: "demo", POD_IDENTITY_NAME: "keyless-demo" } }, [(m.get("reg-microsoft.containerservice") as R).urn]);
      m.set(binding.name, binding);
      const pod = m.get("pod") as R;
      m.set("pod", { ...pod, inputs: { metadata: { labels: { aadpodidbinding: "keyless-demo" } } } });
      expect(violations(m)).toEqual([["keyless-readiness-check-grants", "pod", "runs as pod-id through the pod identity add-on but does not wait for its binding pod-identity-binding"]]);
      m.set("pod", { ...(m.get("pod") as R), dependencies: [...pod.dependencies, binding.urn] });
      expect(violations(m)).toEqual([]);
    });
    it("the binding's namespace is the add-on's: created, not patched, it fails", () => {
      const m = fixture();
      m.set("cluster", { ...(m.get("cluster") as R), inputs: { podIdentityProfile: { enabled: true } } });
      m.set("binding", r([aks, "command:local:Command"], "binding", { environment: { POD_IDENTITY_NAMESPACE: "demo", POD_IDENTITY_NAME: "keyless-demo" } }, [(m.get("reg-microsoft.containerservice") as R).urn]));
      m.set("ns", { ...(m.get("ns") as R), inputs: { metadata: { name: "demo" } } });
      expect(violations(m)).toEqual([["keyless-readiness-addon-namespace", "ns", 'creates namespace "demo", which the pod identity add-on creates itself, so the create fails with AlreadyExists; patch it with kubernetes:core/v1:NamespacePatch instead']]);
    });
  });

  describe("keyless-readiness-one-grant-per-role", () => {
    it("a second assignment of the same role to the same principal on the same scope, however its ids are spelt", () => {
      const m = fixture();
      const vmGrant = m.get("vm-acrpull") as R;
      const scope = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/cr";
      m.set("vm-acrpull", { ...vmGrant, inputs: { ...vmGrant.inputs, scope } });
      m.set("vm-acrpull-2", { ...vmGrant, urn: vmGrant.urn.replace(/vm-acrpull$/, "vm-acrpull-2"), name: "vm-acrpull-2", inputs: { ...vmGrant.inputs, scope: scope.toUpperCase(), roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${String(vmGrant.inputs.roleDefinitionId).split("/").pop()}` } });
      expect(violations(m).filter(([r0]) => r0 === "keyless-readiness-one-grant-per-role")).toEqual([["keyless-readiness-one-grant-per-role", "vm-acrpull-2", "grants the same role to the same principal on the same scope as vm-acrpull; ARM refuses the second with RoleAssignmentExists"]]);
    });
  });

  describe("keyless-readiness-rerun-replace", () => {
    const rule = "keyless-readiness-rerun-replace";
    const message = 'is re-run with `pulumi up --replace` but lacks deleteBeforeReplace: the replacement, created first under the same name, fails with "cannot create already existing resource"';
    it("a VM run command created before its old one is deleted", () => {
      const m = fixture();
      m.set("vm-verify", { ...(m.get("vm-verify") as R), deleteBeforeReplace: false });
      expect(violations(m)).toEqual([[rule, "vm-verify", message]]);
    });
    it("an Arc run command without the option", () => {
      const m = fixture();
      m.set("arc-verify", r(["keyless:arc:ArcServer", "azure-native:hybridcompute:MachineRunCommand"], "arc-verify"));
      expect(violations(m).filter(([r0]) => r0 === rule)).toEqual([[rule, "arc-verify", message]]);
    });
  });

  describe("keyless-readiness-preview-feature", () => {
    const rule = "keyless-readiness-preview-feature";
    it("a feature registered through SubscriptionFeatureRegistration", () => {
      const m = fixture();
      m.set("feature-resource", r(["azure-native:features:SubscriptionFeatureRegistration"], "feature-resource", { featureName: "EnablePodIdentityPreview" }));
      expect(violations(m)).toEqual([
        [
          rule,
          "feature-resource",
          "registers a preview feature through azure-native:features:SubscriptionFeatureRegistration, which fails on create when the feature exists (pulumi/pulumi-azure-native#1722) and unregisters it for the whole subscription on destroy; run az feature register (scripts/aks/register-feature.sh) instead",
        ],
      ]);
    });
    it("a pod identity cluster that does not wait for the feature", () => {
      const m = fixture();
      m.set("cluster", without(m.get("cluster") as R, (m.get("feature") as R).urn));
      expect(violations(m)).toEqual([[rule, "cluster", "enables the pod identity add-on but does not wait for the registration of Microsoft.ContainerService/EnablePodIdentityPreview (az feature register, then az provider register)"]]);
    });
  });

  describe("keyless-readiness-kubernetes-gate", () => {
    const rule = "keyless-readiness-kubernetes-gate";
    it("an object that does not wait for the deployer's cluster admin grant", () => {
      const m = fixture();
      const ns = m.get("ns") as R;
      // Still waits for the gate, but the gate no longer waits for the grant either.
      m.set("ns", without(ns, (m.get("deployer-admin") as R).urn));
      m.set("cluster-access", without(m.get("cluster-access") as R, (m.get("deployer-admin") as R).urn));
      expect(violations(m).filter(([, n]) => n === "ns")).toEqual([[rule, "ns", "does not wait for the deployer's Azure Kubernetes Service RBAC Cluster Admin grant; the API server answers 403 until it exists"]]);
    });
    it("an object that does not wait for the cluster access check", () => {
      const m = fixture();
      m.set("ns", without(m.get("ns") as R, (m.get("cluster-access") as R).urn));
      expect(violations(m)).toEqual([[rule, "ns", "does not wait for a cluster readiness check (a command running kubectl auth can-i); a new Azure RBAC grant takes up to 5 minutes to reach the API server"]]);
    });
  });

  describe("keyless-readiness-check-grants", () => {
    const rule = "keyless-readiness-check-grants";
    it("a pod that does not wait for its identity's grant", () => {
      const m = fixture();
      m.set("pod", without(m.get("pod") as R, (m.get("pod-vm") as R).urn));
      expect(violations(m)).toEqual([[rule, "pod", "runs as pod-id but does not wait for its grant pod-vm"]]);
    });
    it("a Workload Identity pod that does not wait for its federated credential", () => {
      const m = fixture();
      m.set("pod", without(m.get("pod") as R, (m.get("pod-federation") as R).urn));
      expect(violations(m)).toEqual([[rule, "pod", "runs as pod-id through Workload Identity but does not wait for its federated credential pod-federation"]]);
    });
    it("a VM run command that does not wait for its identity's grant", () => {
      const m = fixture();
      m.set("vm-verify", without(m.get("vm-verify") as R, (m.get("vm-acrpull") as R).urn));
      expect(violations(m)).toEqual([[rule, "vm-verify", "runs as vm-id but does not wait for its grant vm-acrpull"]]);
    });
  });

  describe("keyless-readiness-addon-namespace", () => {
    const rule = "keyless-readiness-addon-namespace";
    it("a Namespace created for a pod identity the add-on binds (the add-on creates it)", () => {
      const m = fixture();
      m.set("ns", { ...(m.get("ns") as R), inputs: { metadata: { name: "demo" } } });
      expect(violations(m)).toEqual([[rule, "ns", 'creates namespace "demo", which the pod identity add-on creates itself, so the create fails with AlreadyExists; patch it with kubernetes:core/v1:NamespacePatch instead']]);
    });
    it("the same namespace patched, or another namespace created, is fine", () => {
      const m = fixture();
      const ns = m.get("ns") as R;
      m.set("ns", { ...ns, type: "kubernetes:core/v1:NamespacePatch", urn: ns.urn.replace("kubernetes:core/v1:Namespace", "kubernetes:core/v1:NamespacePatch"), inputs: { metadata: { name: "demo" } } });
      m.set("other", { ...ns, name: "other", urn: ns.urn.replace("::ns", "::other"), inputs: { metadata: { name: "apps" } } });
      expect(violations(m)).toEqual([]);
    });
  });

  describe("keyless-readiness-principal-type", () => {
    const rule = "keyless-readiness-principal-type";
    it("a grant to a user-assigned identity typed as a user", () => {
      const m = fixture();
      m.set("pod-vm", { ...(m.get("pod-vm") as R), inputs: { ...(m.get("pod-vm") as R).inputs, principalType: "User" } });
      expect(violations(m)).toEqual([[rule, "pod-vm", 'names a managed identity (pid-1) but principalType is "User"; it must be "ServicePrincipal"']]);
    });
    it("a grant to the kubelet identity without a principal type", () => {
      const m = fixture();
      const { principalType: _drop, ...inputs } = (m.get("kubelet-acrpull") as R).inputs;
      m.set("kubelet-acrpull", { ...(m.get("kubelet-acrpull") as R), inputs });
      expect(violations(m)).toEqual([[rule, "kubelet-acrpull", 'names a managed identity (kubelet-1) but principalType is "unset"; it must be "ServicePrincipal"']]);
    });
    it("a grant to a resource's system-assigned identity typed as a group", () => {
      const m = fixture();
      m.set("machine", r(["azure-native:hybridcompute:Machine"], "machine", {}, [], { identity: { principalId: "machine-1" } }));
      m.set("machine-grant", r(["azure-native:authorization:RoleAssignment"], "machine-grant", { principalId: "machine-1", principalType: "Group", roleDefinitionId: roleDefinitionId("s", "Storage Blob Data Reader") }));
      expect(violations(m).filter(([r0]) => r0 === rule)).toEqual([[rule, "machine-grant", 'names a managed identity (machine-1) but principalType is "Group"; it must be "ServicePrincipal"']]);
    });
  });
});
