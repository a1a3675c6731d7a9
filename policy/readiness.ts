import type { StackValidationPolicy } from "@pulumi/policy";
import { roleGuid } from "../lib/roles";
import { namespacesOf } from "../lib/resource-providers";

// Readiness rules: pure functions over (resources, dependencies) that catch what the mock engine
// accepts and Azure refuses on a first `pulumi up`: a resource created before its resource provider is
// registered, a Kubernetes object sent before the deployer's Azure RBAC grant reached the API server,
// a check that runs before the grants it relies on, a preview feature registered through a resource
// that unregisters it on destroy, a grant whose principalType does not match its principal.
// The same code runs offline (`npm run plan -- --policy`, tools/plan/policy.ts) and in the policy pack
// as a stack validation (policy/index.ts). A value the plan does not know yet (preview) is skipped.

/** One resource and the URNs it waits on, as the offline plan and the policy pack both see it. */
export interface GraphResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** URN of the parent ("" or undefined for the stack's direct children). */
  readonly parent?: string;
  /** URN of its provider, when known: a resource also waits for its provider. */
  readonly provider?: string;
  readonly inputs: Record<string, unknown>;
  /** Outputs when known (the offline plan's mock outputs, or the policy pack's props). */
  readonly outputs?: Record<string, unknown>;
  /** URNs it waits on: explicit dependsOn and those its inputs carry. */
  readonly dependencies: readonly string[];
  /** A replacement deletes the old resource first (the deleteBeforeReplace option). */
  readonly deleteBeforeReplace?: boolean;
}

export interface ReadinessRule {
  /** keyless-readiness-<what>. */
  readonly name: string;
  /** One-line rationale with the source. */
  readonly description: string;
  /** Violations: the resource and the message. */
  readonly check: (graph: Graph) => { urn: string; message: string }[];
}

/** Dependency closure over a set of resources; waiting on a component means waiting on its children. */
export class Graph {
  readonly resources: readonly GraphResource[];
  private readonly byUrn: Map<string, GraphResource>;
  private readonly children = new Map<string, string[]>();
  private readonly closures = new Map<string, Set<string>>();

  constructor(resources: readonly GraphResource[]) {
    this.resources = resources;
    this.byUrn = new Map(resources.map((r) => [r.urn, r]));
    for (const r of resources) if (r.parent) this.children.set(r.parent, [...(this.children.get(r.parent) ?? []), r.urn]);
  }

  get(urn: string): GraphResource | undefined {
    return this.byUrn.get(urn);
  }

  /** Everything `urn` waits on, directly or through others, their providers and components' children. */
  waitsOn(urn: string): Set<string> {
    const cached = this.closures.get(urn);
    if (cached) return cached;
    const seen = new Set<string>();
    const start = this.byUrn.get(urn);
    const stack = [...(start?.dependencies ?? []), ...(start?.provider ? [start.provider] : [])];
    while (stack.length > 0) {
      const next = stack.pop() as string;
      if (seen.has(next)) continue;
      seen.add(next);
      const r = this.byUrn.get(next);
      if (r) stack.push(...r.dependencies, ...(r.provider ? [r.provider] : []));
      stack.push(...(this.children.get(next) ?? []));
    }
    this.closures.set(urn, seen);
    return seen;
  }

  ofType(type: string): GraphResource[] {
    return this.resources.filter((r) => r.type === type);
  }
}

/** Run commands whose docs and failure message tell users to re-run them with `pulumi up --replace`. */
const rerunByReplace = new Set(["azure-native:hybridcompute:MachineRunCommand", "azure-native:compute:VirtualMachineRunCommandByVirtualMachine"]);

/**
 * The environment of a command that binds a pod identity with the add-on after the cluster
 * (components/aks-cluster.ts, scripts/aks/add-pod-identity.sh), or undefined for any other resource.
 */
export function podIdentityBindingEnvironment(r: { readonly type: string; readonly inputs: Record<string, unknown> }): Record<string, unknown> | undefined {
  const env = r.type === "command:local:Command" ? (r.inputs.environment as Record<string, unknown> | undefined) : undefined;
  return env && "POD_IDENTITY_NAME" in env ? env : undefined;
}

/** Pod identities bound with the add-on by a command after the cluster (its environment names them). */
function podIdentityBindings(graph: Graph): { urn: string; resource: string; namespace: unknown; name: unknown }[] {
  return graph.ofType("command:local:Command").flatMap((c) => {
    const env = podIdentityBindingEnvironment(c);
    return env ? [{ urn: c.urn, resource: c.name, namespace: env.POD_IDENTITY_NAMESPACE, name: env.POD_IDENTITY_NAME }] : [];
  });
}

/** Type token of the component a resource belongs to, from its URN (`parent$child` qualified type). */
export function parentTypeOf(urn: string): string | undefined {
  const qualified = urn.split("::")[2] ?? "";
  const chain = qualified.split("$");
  return chain.length >= 2 ? chain[chain.length - 2] : undefined;
}

/** A value of a resource: its output when known, else its input. */
function valueOf(r: GraphResource, key: string): unknown {
  return r.outputs?.[key] ?? r.inputs[key];
}

function roleOfGrant(r: GraphResource): string | undefined {
  const id = r.inputs.roleDefinitionId;
  return typeof id === "string" ? id.split("/").pop()?.toLowerCase() : undefined;
}

const known = (v: unknown): v is string => typeof v === "string" && v.length > 0;

export const readinessTypes = {
  command: "command:local:Command",
  roleAssignment: "azure-native:authorization:RoleAssignment",
  identity: "azure-native:managedidentity:UserAssignedIdentity",
  federatedCredential: "azure-native:managedidentity:FederatedIdentityCredential",
  cluster: "azure-native:containerservice:ManagedCluster",
  featureResource: "azure-native:features:SubscriptionFeatureRegistration",
  vmRunCommand: "azure-native:compute:VirtualMachineRunCommandByVirtualMachine",
  virtualMachine: "azure-native:compute:VirtualMachine",
  pod: "kubernetes:core/v1:Pod",
} as const;

/** `az provider register --namespace X` commands of the plan, by namespace. */
function registrations(graph: Graph): Map<string, GraphResource> {
  const out = new Map<string, GraphResource>();
  for (const r of graph.resources) {
    if (!r.type.startsWith("command:")) continue;
    const m = /az provider register --namespace (\S+)/.exec(String(r.inputs.create ?? ""));
    if (m) out.set(m[1].toLowerCase(), r);
  }
  return out;
}

/** The command that asks the cluster whether the deployer may act (scripts/aks/wait-for-cluster-access.sh). */
export const clusterGateMarker = "kubectl auth can-i";
/** The command that registers a preview feature the way the AKS docs do (scripts/aks/register-feature.sh). */
export const featureScriptMarker = "az feature register";

const managedIdentityPrincipals = (graph: Graph): Set<string> => {
  const ids = new Set<string>();
  for (const r of graph.resources) {
    if (r.type === readinessTypes.identity && known(valueOf(r, "principalId"))) ids.add(valueOf(r, "principalId") as string);
    if (r.type === readinessTypes.cluster) {
      const kubelet = (valueOf(r, "identityProfile") as Record<string, { objectId?: string }> | undefined)?.kubeletidentity?.objectId;
      if (known(kubelet)) ids.add(kubelet);
    }
    // A system-assigned identity of any resource (VM, cluster, Arc machine): identity.principalId.
    const system = (r.outputs?.identity as { principalId?: unknown } | undefined)?.principalId;
    if (known(system)) ids.add(system);
  }
  return ids;
};

/** User-assigned identities a check runs as: those it waits on. */
function identitiesOf(graph: Graph, check: GraphResource): GraphResource[] {
  const waits = graph.waitsOn(check.urn);
  return graph.ofType(readinessTypes.identity).filter((i) => waits.has(i.urn));
}


export const readinessRules: readonly ReadinessRule[] = [
  {
    name: "keyless-readiness-provider-registration",
    description:
      "Every resource waits for the registration of its resource provider namespace (a missing one fails with MissingSubscriptionRegistration; azure-docs azure-resource-manager/troubleshooting/error-register-resource-provider.md).",
    check: (graph) => {
      const regs = registrations(graph);
      // Registration off (keyless:registerProviders false): the subscription is prepared by someone else.
      if (regs.size === 0) return [];
      return graph.resources.flatMap((r) => {
        if (r.type.startsWith("pulumi:") || [...regs.values()].includes(r)) return [];
        const lookup = namespacesOf(r.type, parentTypeOf(r.urn));
        if ("unknown" in lookup) return [{ urn: r.urn, message: `no resource provider namespace is known for ${lookup.unknown}; map it in lib/resource-providers.ts` }];
        const waits = graph.waitsOn(r.urn);
        return lookup.namespaces.flatMap((ns) => {
          const reg = regs.get(ns.toLowerCase());
          if (!reg) return [{ urn: r.urn, message: `needs ${ns} registered, but the plan does not register it; add it to requiredNamespaces in lib/resource-providers.ts` }];
          return waits.has(reg.urn) ? [] : [{ urn: r.urn, message: `does not wait for the registration of ${ns} (${reg.name}); Azure refuses it with MissingSubscriptionRegistration until then` }];
        });
      });
    },
  },
  {
    name: "keyless-readiness-preview-feature",
    description:
      "Preview features are registered with az feature register and waited for, never through SubscriptionFeatureRegistration (create fails on an existing feature, pulumi/pulumi-azure-native#1722; destroy unregisters it subscription-wide).",
    check: (graph) => {
      const out = graph.ofType(readinessTypes.featureResource).map((r) => ({
        urn: r.urn,
        message:
          "registers a preview feature through azure-native:features:SubscriptionFeatureRegistration, which fails on create when the feature exists (pulumi/pulumi-azure-native#1722) and unregisters it for the whole subscription on destroy; run az feature register (scripts/aks/register-feature.sh) instead",
      }));
      const scripts = graph.resources.filter((r) => r.type.startsWith("command:") && String(r.inputs.create ?? "").includes(featureScriptMarker));
      for (const c of graph.ofType(readinessTypes.cluster)) {
        if ((c.inputs.podIdentityProfile as { enabled?: unknown } | undefined)?.enabled !== true) continue;
        const waits = graph.waitsOn(c.urn);
        const feature = scripts.find((s) => String(s.inputs.environment ? JSON.stringify(s.inputs.environment) : "").includes("EnablePodIdentityPreview"));
        if (!feature || !waits.has(feature.urn)) {
          out.push({ urn: c.urn, message: "enables the pod identity add-on but does not wait for the registration of Microsoft.ContainerService/EnablePodIdentityPreview (az feature register, then az provider register)" });
        }
      }
      return out;
    },
  },
  {
    name: "keyless-readiness-kubernetes-gate",
    description:
      "Every Kubernetes object waits for the deployer's AKS RBAC Cluster Admin grant and for a check that asks the cluster until the grant works (Azure RBAC reaches the API server within about 5 minutes: learn.microsoft.com/azure/aks/manage-azure-rbac).",
    check: (graph) => {
      const adminGuid = roleGuid("Azure Kubernetes Service RBAC Cluster Admin");
      const admins = graph.ofType(readinessTypes.roleAssignment).filter((g) => roleOfGrant(g) === adminGuid);
      const gates = graph.resources.filter((r) => r.type.startsWith("command:") && String(r.inputs.create ?? "").includes(clusterGateMarker));
      return graph.resources.flatMap((r) => {
        if (!r.type.startsWith("kubernetes:") || r.type.startsWith("pulumi:")) return [];
        const waits = graph.waitsOn(r.urn);
        const out: { urn: string; message: string }[] = [];
        if (!admins.some((g) => waits.has(g.urn))) out.push({ urn: r.urn, message: "does not wait for the deployer's Azure Kubernetes Service RBAC Cluster Admin grant; the API server answers 403 until it exists" });
        if (!gates.some((g) => waits.has(g.urn))) out.push({ urn: r.urn, message: `does not wait for a cluster readiness check (a command running ${clusterGateMarker}); a new Azure RBAC grant takes up to 5 minutes to reach the API server` });
        return out;
      });
    },
  },
  {
    name: "keyless-readiness-check-grants",
    description:
      "A check that runs as an identity (VM run command, demo pod) waits for every grant that identity holds and, in a pod, for its federated credential; otherwise it reports a failure that is only propagation (azure-docs role-based-access-control/troubleshooting.md).",
    check: (graph) => {
      const checks = graph.resources.filter((r) => r.type === readinessTypes.vmRunCommand || r.type === readinessTypes.pod || r.type === "azure-native:hybridcompute:MachineRunCommand");
      const grants = graph.ofType(readinessTypes.roleAssignment);
      const federated = graph.ofType(readinessTypes.federatedCredential);
      return checks.flatMap((check) => {
        const waits = graph.waitsOn(check.urn);
        const out: { urn: string; message: string }[] = [];
        for (const identity of identitiesOf(graph, check)) {
          const principal = valueOf(identity, "principalId");
          if (!known(principal)) continue;
          for (const g of grants) {
            if (g.inputs.principalId === principal && !waits.has(g.urn)) out.push({ urn: check.urn, message: `runs as ${identity.name} but does not wait for its grant ${g.name}` });
          }
          const labels = ((check.inputs.metadata as { labels?: Record<string, unknown> } | undefined)?.labels ?? {}) as Record<string, unknown>;
          if (check.type === readinessTypes.pod && known(labels.aadpodidbinding)) {
            const bindings = podIdentityBindings(graph).filter((b) => b.name === labels.aadpodidbinding);
            if (bindings.length > 0 && !bindings.some((b) => waits.has(b.urn))) out.push({ urn: check.urn, message: `runs as ${identity.name} through the pod identity add-on but does not wait for its binding ${bindings[0].resource}` });
          }
          if (check.type === readinessTypes.pod && labels["azure.workload.identity/use"] === "true") {
            const name = valueOf(identity, "name") ?? identity.inputs.resourceName;
            const creds = federated.filter((f) => f.inputs.resourceName === name);
            if (creds.length > 0 && !creds.some((f) => waits.has(f.urn))) out.push({ urn: check.urn, message: `runs as ${identity.name} through Workload Identity but does not wait for its federated credential ${creds[0].name}` });
          }
        }
        return out;
      });
    },
  },
  {
    name: "keyless-readiness-addon-namespace",
    description:
      "A namespace the AKS pod identity add-on creates (each pod identity's) is patched, not created: the add-on creates it itself (Azure/aad-pod-identity#1204, Azure/AKS#2852) and @pulumi/kubernetes 4.29+ fails a create of an existing object with AlreadyExists (its CHANGELOG, #2926).",
    check: (graph) => {
      const addonNamespaces = new Set<string>();
      for (const c of graph.ofType(readinessTypes.cluster)) {
        const profile = c.inputs.podIdentityProfile as { enabled?: unknown; userAssignedIdentities?: { namespace?: unknown }[] } | undefined;
        if (profile?.enabled !== true) continue;
        for (const i of profile.userAssignedIdentities ?? []) if (known(i.namespace)) addonNamespaces.add(i.namespace);
      }
      // A binding made after the cluster (scripts/aks/add-pod-identity.sh) names its namespace too.
      for (const b of podIdentityBindings(graph)) if (known(b.namespace)) addonNamespaces.add(b.namespace);
      return graph.ofType("kubernetes:core/v1:Namespace").flatMap((n) => {
        const name = (n.inputs.metadata as { name?: unknown } | undefined)?.name;
        if (!known(name) || !addonNamespaces.has(name)) return [];
        return [{ urn: n.urn, message: `creates namespace "${name}", which the pod identity add-on creates itself, so the create fails with AlreadyExists; patch it with kubernetes:core/v1:NamespacePatch instead` }];
      });
    },
  },
  {
    name: "keyless-readiness-principal-type",
    description:
      "A grant's principalType matches the principal it names: a managed identity is a ServicePrincipal (ARM refuses a mismatch; azure-docs role-based-access-control/role-assignments-template.md).",
    check: (graph) => {
      const managed = managedIdentityPrincipals(graph);
      return graph.ofType(readinessTypes.roleAssignment).flatMap((g) => {
        const p = g.inputs.principalId;
        if (!known(p) || !managed.has(p) || g.inputs.principalType === "ServicePrincipal") return [];
        return [{ urn: g.urn, message: `names a managed identity (${p}) but principalType is ${JSON.stringify(g.inputs.principalType ?? "unset")}; it must be "ServicePrincipal"` }];
      });
    },
  },
  {
    name: "keyless-readiness-one-grant-per-role",
    description:
      "One role assignment per scope, principal and role: ARM refuses a second one for the same three with RoleAssignmentExists, whatever its name (azure-docs role-based-access-control/troubleshooting.md, \"The role assignment already exists\").",
    check: (graph) => {
      const seen = new Map<string, GraphResource>();
      return graph.ofType(readinessTypes.roleAssignment).flatMap((g) => {
        const { scope, principalId, roleDefinitionId } = g.inputs;
        if (!known(scope) || !known(principalId) || !known(roleDefinitionId)) return [];
        const key = [scope.toLowerCase(), principalId.toLowerCase(), roleDefinitionId.split("/").pop()?.toLowerCase()].join("|");
        const first = seen.get(key);
        if (!first) {
          seen.set(key, g);
          return [];
        }
        return [{ urn: g.urn, message: `grants the same role to the same principal on the same scope as ${first.name}; ARM refuses the second with RoleAssignmentExists` }];
      });
    },
  },
  {
    name: "keyless-readiness-rerun-replace",
    description:
      "A check re-run with `pulumi up --replace` (a run command with a fixed name, as its error message and docs say) is deleted before its replacement is created: by default the engine creates the replacement first, and azure-native refuses to create a resource that already exists (pulumi-azure-native provider.go, \"cannot create already existing resource\").",
    check: (graph) =>
      graph.resources
        .filter((r) => rerunByReplace.has(r.type) && r.deleteBeforeReplace !== true)
        .map((r) => ({ urn: r.urn, message: "is re-run with `pulumi up --replace` but lacks deleteBeforeReplace: the replacement, created first under the same name, fails with \"cannot create already existing resource\"" })),
  },
];

export interface ReadinessViolation {
  readonly rule: string;
  readonly urn: string;
  readonly message: string;
}

/** Every readiness violation, by rule then URN. */
export function checkReadiness(resources: readonly GraphResource[]): ReadinessViolation[] {
  const graph = new Graph(resources);
  return readinessRules.flatMap((rule) =>
    rule
      .check(graph)
      .map((v) => ({ rule: rule.name, ...v }))
      .sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0)),
  );
}

/** The readiness rules as @pulumi/policy stack validations (`pulumi preview --policy-pack policy`). */
export function toStackPolicy(rule: ReadinessRule): StackValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
      const resources: GraphResource[] = args.resources.map((r) => ({
        urn: r.urn,
        type: r.type,
        name: r.name,
        parent: r.parent?.urn,
        provider: r.provider?.urn,
        inputs: r.props,
        outputs: r.props,
        dependencies: r.dependencies.map((d) => d.urn),
        deleteBeforeReplace: r.opts.deleteBeforeReplace === true,
      }));
      for (const v of rule.check(new Graph(resources))) reportViolation(v.message, v.urn);
    },
  };
}

export const readinessPolicies: StackValidationPolicy[] = readinessRules.map(toStackPolicy);
