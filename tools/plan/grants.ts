import { builtInRoles } from "../../lib/roles";
import { podIdentityBindingEnvironment } from "../../policy/readiness";
import { UNKNOWN, type Plan, type PlannedResource } from "./engine";
import { mockDeployerObjectId, mockSubscriptionId, mockTenantId } from "./mocks";

// Who reaches what: every role grant (and every Lighthouse authorization) as holder -> role -> target,
// each named after the resource that owns it. Works on a plan whose ids are unknown: a holder and a
// target are found through the property dependencies the engine recorded (which resource the value
// came from), not by comparing ids, so two servers whose principal ids are both unknown stay two.

const roleByGuid = new Map<string, string>(Object.entries(builtInRoles).map(([name, guid]) => [guid, name]));

/** A plan as saved by --json (propertyDependencies may be absent in an old file). */
export type PlanLike = Pick<Plan, "resources"> & { readonly stack?: string; readonly deployerObjectId?: string };

/** One grant: a principal holds a role on a target. */
export interface GrantRow {
  /** URN of the resource that makes the grant. */
  readonly urn: string;
  /** Logical name of the RoleAssignment (or Lighthouse definition) that makes the grant. */
  readonly resource: string;
  /** Who holds the role, by name: `arc-lnx-01 (system identity)`, `id-keyless-dev-vm (user-assigned identity)`. */
  readonly holder: string;
  /** What kind of workload the holder is, for the identity map. */
  readonly workload: WorkloadKind;
  /** The workload's name (a machine, a cluster, a VM, a tenant). */
  readonly workloadName: string;
  readonly principalType: string;
  readonly role: string;
  /** What the role reaches, by name: `arcupload (blob container)`. */
  readonly target: string;
  /** The ARM scope when the plan knows it, else UNKNOWN. */
  readonly scope: string;
  readonly description: string;
  /** "role assignment" or "Lighthouse delegation". */
  readonly via: string;
}

export type WorkloadKind = "Arc server" | "VM" | "AKS kubelet" | "AKS pod" | "AKS cluster" | "user-assigned identity" | "app registration" | "deployer" | "other tenant" | "principal";

const kinds: Record<string, [string, string]> = {
  "azure-native:storage:BlobContainer": ["containerName", "blob container"],
  "azure-native:storage:StorageAccount": ["accountName", "storage account"],
  "azure-native:keyvault:Vault": ["vaultName", "key vault"],
  "azure-native:containerregistry:Registry": ["registryName", "container registry"],
  "azure-native:resources:ResourceGroup": ["resourceGroupName", "resource group"],
  "azure-native:compute:Gallery": ["galleryName", "image gallery"],
  "azure-native:compute:GalleryImage": ["galleryImageName", "gallery image"],
  "azure-native:compute:VirtualMachine": ["vmName", "VM"],
  "azure-native:containerservice:ManagedCluster": ["resourceName", "AKS cluster"],
  "azure-native:managedidentity:UserAssignedIdentity": ["resourceName", "user-assigned identity"],
  "azure-native:hybridcompute:Machine": ["machineName", "Arc server"],
  "azure-native:keyvault:Secret": ["secretName", "key vault secret"],
};

function known(v: unknown): v is string {
  return typeof v === "string" && v !== UNKNOWN && v !== "";
}

/** `<azure name> (<kind>)`: how the plan names a resource. */
export function resourceLabel(r: PlannedResource): string {
  const [key, kind] = kinds[r.type] ?? ["", r.type.split(":").pop() ?? r.type];
  // No name input at all: Pulumi auto-names it at apply (logical name + random suffix), so the
  // mocks' suffix is not shown as if it were the name.
  if (key !== "" && r.inputs[key] === undefined) return `${r.name}* (${kind}, auto-named)`;
  const name = [r.inputs[key], r.outputs.name].find(known) ?? r.name;
  return `${name} (${kind})`;
}

/** An ARM id (or any text) as the plan shows it: the mock subscription and tenant are not real ones, so they are named as such. */
export function displayScope(scope: string): string {
  return scope.split(mockSubscriptionId).join("<subscription>").split(mockTenantId).join("<tenant>");
}

/** The last ARM segment pair of a known scope, named: `.../containers/arcupload` -> `arcupload (containers)`. */
function scopeLabel(scope: string): string {
  const parts = scope.split("/").filter(Boolean);
  if (parts.length === 2 && parts[0].toLowerCase() === "subscriptions") return "the subscription";
  const segmentKinds: Record<string, string> = { resourcegroups: "resource group", containers: "blob container", vaults: "key vault", secrets: "key vault secret", registries: "container registry", galleries: "image gallery" };
  if (parts.length >= 2) return `${parts[parts.length - 1]} (${segmentKinds[parts[parts.length - 2].toLowerCase()] ?? parts[parts.length - 2]})`;
  return scope;
}

export interface Index {
  readonly byUrn: Map<string, PlannedResource>;
  /** Realistic principal ids (a plan made without unknowns) -> holder. */
  readonly principals: Map<string, { label: string; kind: WorkloadKind; workload: string }>;
  /** Known ARM ids -> resource. */
  readonly ids: Map<string, PlannedResource>;
  /** User-assigned identity URN -> the workload that signs in with it (a VM, an AKS pod). */
  readonly users: Map<string, { kind: WorkloadKind; workload: string }>;
}

/** Who uses a user-assigned identity, from the resources that take it (linear: one look at each). */
function identityUser(r: PlannedResource, byUrn: Map<string, PlannedResource>): { urns: string[]; kind: WorkloadKind; workload: string } | undefined {
  const deps = r.propertyDependencies ?? {};
  const uais = (key: string) => (deps[key] ?? []).filter((u) => byUrn.get(u)?.type === "azure-native:managedidentity:UserAssignedIdentity");
  if (r.type === "azure-native:compute:VirtualMachine") return { urns: uais("identity"), kind: "VM", workload: String(r.inputs.vmName ?? r.name) };
  if (r.type === "azure-native:managedidentity:FederatedIdentityCredential") {
    // Workload Identity: a pod running as this Kubernetes service account gets the identity's token.
    const subject = String(r.inputs.subject ?? "").replace(/^system:serviceaccount:/, "").replace(":", "/");
    return { urns: uais("resourceName"), kind: "AKS pod", workload: `pods as ${subject}` };
  }
  if (r.type === "azure-native:containerservice:ManagedCluster") return { urns: uais("podIdentityProfile"), kind: "AKS pod", workload: `pods bound by AAD Pod Identity (${r.inputs.resourceName ?? r.name})` };
  // The add-on's binding made after the cluster (scripts/aks/add-pod-identity.sh, `az aks pod-identity add`).
  const env = podIdentityBindingEnvironment(r);
  if (env) {
    const cluster = byUrn.get((deps.environment ?? []).find((u) => byUrn.get(u)?.type === "azure-native:containerservice:ManagedCluster") ?? "");
    // Only the identity it binds (IDENTITY_RESOURCE_ID); the environment also carries the cluster's inputs.
    const bound = uais("environment").filter((u) => byUrn.get(u)?.outputs.id === env.IDENTITY_RESOURCE_ID);
    return { urns: bound, kind: "AKS pod", workload: `pods bound by AAD Pod Identity (${cluster?.inputs.resourceName ?? env.CLUSTER_NAME})` };
  }
  return undefined;
}

/** One pass over the resources: everything grant resolution looks up. */
export function indexPlan(plan: PlanLike): Index {
  const byUrn = new Map<string, PlannedResource>();
  const principals: Index["principals"] = new Map();
  const ids = new Map<string, PlannedResource>();
  for (const r of plan.resources) byUrn.set(r.urn, r);
  const users: Index["users"] = new Map();
  for (const r of plan.resources) {
    const u = identityUser(r, byUrn);
    if (u) for (const urn of u.urns) if (!users.has(urn)) users.set(urn, { kind: u.kind, workload: u.workload });
  }
  for (const r of plan.resources) {
    if (known(r.outputs.id)) ids.set(r.outputs.id, r);
    if (r.type === "azure-native:managedidentity:UserAssignedIdentity" && known(r.outputs.principalId)) {
      principals.set(r.outputs.principalId, { ...identityHolder(r), ...(users.get(r.urn) ?? { workload: String(r.inputs.resourceName ?? r.name) }) });
    }
    const identity = r.outputs.identity as { principalId?: unknown } | undefined;
    if (known(identity?.principalId)) {
      const name = String(r.inputs[kinds[r.type]?.[0] ?? "name"] ?? r.name);
      const kind: WorkloadKind = r.type === "azure-native:containerservice:ManagedCluster" ? "AKS cluster" : "VM";
      principals.set(identity.principalId, { label: `${name} (system identity)`, kind, workload: name });
    }
    const kubelet = (r.outputs.identityProfile as { kubeletidentity?: { objectId?: unknown } } | undefined)?.kubeletidentity?.objectId;
    if (known(kubelet)) principals.set(kubelet, { label: `${r.inputs.resourceName ?? r.name} (kubelet identity)`, kind: "AKS kubelet", workload: `nodes of ${r.inputs.resourceName ?? r.name}` });
  }
  principals.set(plan.deployerObjectId ?? mockDeployerObjectId, { label: "the deploying principal", kind: "deployer", workload: "pulumi up" });
  return { byUrn, principals, ids, users };
}

/**
 * A user-assigned identity is the identity of the workload that uses it: an AKS pod (federated) or a VM.
 * Labelled as the resource itself (auto-named too), so the diagram draws the grant from its node.
 */
function identityHolder(r: PlannedResource): { label: string; kind: WorkloadKind } {
  return { label: resourceLabel(r), kind: "user-assigned identity" };
}

/** The component a resource sits in (its parent), when that is a component. */
function component(ix: Index, r: PlannedResource): PlannedResource | undefined {
  const p = ix.byUrn.get(r.parent);
  return p && !p.custom ? p : undefined;
}

function holderOf(ix: Index, grant: PlannedResource): { label: string; kind: WorkloadKind; workload: string } {
  const principal = grant.inputs.principalId;
  if (known(principal) && ix.principals.has(principal)) return ix.principals.get(principal) as { label: string; kind: WorkloadKind; workload: string };
  // Where the principal id came from (the engine's property dependencies).
  for (const urn of grant.propertyDependencies?.principalId ?? []) {
    const from = ix.byUrn.get(urn);
    if (!from) continue;
    const name = String(from.inputs[kinds[from.type]?.[0] ?? "name"] ?? from.name);
    if (from.type === "azure-native:managedidentity:UserAssignedIdentity") return { ...identityHolder(from), ...(ix.users.get(from.urn) ?? { workload: name }) };
    if (from.type === "azure-native:containerservice:ManagedCluster") {
      // A grant reads either the kubelet identity (identityProfile.kubeletidentity) or the cluster's
      // own; both come from the cluster resource, so the grant's own name says which.
      return /kubelet/i.test(`${grant.name} ${grant.inputs.description ?? ""}`)
        ? { label: `${name} (kubelet identity)`, kind: "AKS kubelet", workload: `nodes of ${name}` }
        : { label: `${name} (system identity)`, kind: "AKS cluster", workload: name };
    }
    if (from.type === "azure-native:compute:VirtualMachine") return { label: `${name} (system identity)`, kind: "VM", workload: name };
    if (from.type.startsWith("azuread:") && /servicePrincipal/i.test(from.type)) {
      // An app registration's service principal: named after the application it was made for.
      const app = (from.propertyDependencies?.clientId ?? []).map((u) => ix.byUrn.get(u)).find((a) => a?.type.startsWith("azuread:") && /application/i.test(a.type));
      const display = [app?.inputs.displayName, from.inputs.displayName].find(known) ?? from.name;
      return { label: `${display} (app registration)`, kind: "app registration", workload: display };
    }
  }
  // Any other resource the principal id comes from names it.
  const source = (grant.propertyDependencies?.principalId ?? []).map((u) => ix.byUrn.get(u)).find((x) => x?.custom);
  if (source) return { label: `${source.name} (${source.type.split(":").pop()})`, kind: "principal", workload: source.name };
  // An Arc server's identity is read from ARM after onboarding: the grant sits in its ArcServer component.
  const parent = component(ix, grant);
  if (parent?.type === "keyless:arc:ArcServer") {
    const fleet = component(ix, parent);
    const machine = fleet && parent.name.startsWith(`${fleet.name}-`) ? parent.name.slice(fleet.name.length + 1) : parent.name;
    return { label: `${machine} (system identity)`, kind: "Arc server", workload: machine };
  }
  if (known(principal)) {
    // A principal named in the stack's config (a consumer's group or service principal).
    const type = String(grant.inputs.principalType ?? "principal");
    return { label: `${type} ${principal} (from config)`, kind: "principal", workload: `${type} ${principal}` };
  }
  return { label: UNKNOWN, kind: "principal", workload: UNKNOWN };
}

function targetOf(ix: Index, grant: PlannedResource): string {
  const scope = grant.inputs.scope;
  if (known(scope)) {
    const r = ix.ids.get(scope);
    return r ? resourceLabel(r) : scopeLabel(scope);
  }
  const from = (grant.propertyDependencies?.scope ?? []).map((u) => ix.byUrn.get(u)).filter((r): r is PlannedResource => r !== undefined && r.custom);
  if (from.length === 1) {
    // A scope built from a resource's output that is not its id (an AKS node resource group).
    if (from[0].type === "azure-native:containerservice:ManagedCluster" && /nodeResourceGroup/.test(String(grant.name)) === false && !/cluster-admin/i.test(grant.name)) {
      return `node resource group of ${resourceLabel(from[0])}`;
    }
    return resourceLabel(from[0]);
  }
  return UNKNOWN;
}

/** Each Lighthouse delegation's assignment, by the parent it shares with its definition. */
function delegationAssignments(plan: PlanLike): Map<string, PlannedResource> {
  const assignments = new Map<string, PlannedResource>();
  for (const r of plan.resources) if (r.type === "azure-native:managedservices:RegistrationAssignment") assignments.set(r.parent, r);
  return assignments;
}

/** Every role assignment and Lighthouse authorization in the plan, in plan (URN) order. */
export function grantRows(plan: PlanLike, ix: Index = indexPlan(plan)): GrantRow[] {
  const rows: GrantRow[] = [];
  const assignments = delegationAssignments(plan);
  for (const r of plan.resources) {
    if (r.type === "azure-native:authorization:RoleAssignment") {
      const holder = holderOf(ix, r);
      const guid = String(r.inputs.roleDefinitionId ?? "").split("/").pop() ?? "";
      const roleName = roleByGuid.get(guid) ?? (known(r.inputs.roleDefinitionId) ? guid : roleFromName(r));
      rows.push({
        urn: r.urn,
        resource: r.name,
        holder: holder.label,
        workload: holder.kind,
        workloadName: holder.workload,
        principalType: String(r.inputs.principalType ?? "(unset)"),
        role: roleName,
        target: targetOf(ix, r),
        scope: known(r.inputs.scope) ? displayScope(r.inputs.scope) : UNKNOWN,
        description: String(r.inputs.description ?? ""),
        via: "role assignment",
      });
    } else if (r.type === "command:local:Command" && /^az sig share add /.test(String(r.inputs.create ?? ""))) {
      // Direct sharing (components/image-gallery.ts): tenants and subscriptions that may use the
      // gallery's images; not a role assignment, but access all the same.
      const create = String(r.inputs.create);
      const gallery = (r.propertyDependencies?.create ?? []).map((u) => ix.byUrn.get(u)).find((x) => x?.type === "azure-native:compute:Gallery");
      const target = gallery ? resourceLabel(gallery) : UNKNOWN;
      for (const [flag, kind] of [["--tenant-ids", "tenant"], ["--subscription-ids", "subscription"]] as const) {
        const m = new RegExp(`${flag} ((?:[0-9a-fA-F-]{36} ?)+)`).exec(create);
        for (const id of m ? m[1].trim().split(" ") : []) {
          rows.push({
            urn: r.urn,
            resource: r.name,
            holder: `${kind} ${id} (direct share)`,
            workload: "other tenant",
            workloadName: `${kind} ${id}`,
            principalType: kind,
            role: "use shared images",
            target,
            scope: UNKNOWN,
            description: "az sig share add (Compute Gallery direct sharing)",
            via: "direct sharing",
          });
        }
      }
    } else if (r.type === "azure-native:managedservices:RegistrationDefinition") {
      const props = (r.inputs.properties ?? {}) as { managedByTenantId?: unknown; authorizations?: unknown; eligibleAuthorizations?: unknown };
      const tenant = known(props.managedByTenantId) ? props.managedByTenantId : UNKNOWN;
      const assignment = assignments.get(r.parent);
      const scope = assignment && known(assignment.inputs.scope) ? displayScope(assignment.inputs.scope) : UNKNOWN;
      const target = assignment && known(assignment.inputs.scope) ? (ix.ids.get(assignment.inputs.scope) ? resourceLabel(ix.ids.get(assignment.inputs.scope) as PlannedResource) : scopeLabel(assignment.inputs.scope)) : UNKNOWN;
      const list = [...((props.authorizations as unknown[]) ?? []), ...((props.eligibleAuthorizations as unknown[]) ?? [])] as { principalId?: unknown; principalIdDisplayName?: unknown; roleDefinitionId?: unknown }[];
      for (const a of list) {
        const name = known(a.principalIdDisplayName) ? a.principalIdDisplayName : String(a.principalId);
        rows.push({
          urn: r.urn,
          resource: r.name,
          holder: `${name} (tenant ${tenant})`,
          workload: "other tenant",
          workloadName: `tenant ${tenant}`,
          principalType: "managing tenant",
          role: roleByGuid.get(String(a.roleDefinitionId)) ?? String(a.roleDefinitionId),
          target,
          scope,
          description: `${name}: ${String(a.principalId)}`,
          via: "Lighthouse delegation",
        });
      }
    }
  }
  return rows;
}

/** The role when its definition id is unknown (its scope is): grantRole names it by GUID from the one role map. */
function roleFromName(r: PlannedResource): string {
  return UNKNOWN === r.inputs.roleDefinitionId ? "(role from lib/roles.ts, id known after apply)" : String(r.inputs.roleDefinitionId ?? "");
}

/**
 * Grants as the plan shows them: named from the run with the mocks' realistic values (which
 * principal, which role, which resource: the program's intent), with each scope as `pulumi preview`
 * knows it (from the run with unknowns), so an id Azure assigns is never shown as a value.
 */
export function planGrants(realistic: PlanLike, preview: PlanLike): GrantRow[] {
  return previewScopes(grantRows(realistic), preview);
}

/**
 * Grant rows with each grant's scope as the preview plan knows it: a role assignment's own scope, a
 * Lighthouse authorization's the scope of its delegation's assignment (same parent).
 */
export function previewScopes(rows: readonly GrantRow[], preview: PlanLike): GrantRow[] {
  const previewByUrn = new Map(preview.resources.map((r) => [r.urn, r]));
  const assignments = delegationAssignments(preview);
  return rows.map((g) => {
    const p = previewByUrn.get(g.urn);
    let scope: unknown;
    if (p?.type === "azure-native:authorization:RoleAssignment") scope = p.inputs.scope;
    else if (p?.type === "azure-native:managedservices:RegistrationDefinition") scope = assignments.get(p.parent)?.inputs.scope;
    else return g;
    return { ...g, scope: known(scope) ? displayScope(scope) : UNKNOWN };
  });
}
