import { type BuiltInRoleName, builtInRoles, lighthouseGalleryRoles, rolesWithDataActions } from "../lib/roles";

// The keyless rules as pure functions of (type, inputs, context) -> violation messages. The same
// code serves the policy pack (./index.ts, `pulumi preview --policy-pack policy`) and the offline
// check (`npm run plan -- --stack <name> --policy`, tools/plan/policy.ts). Property names are
// azure-native v3's input shapes (node_modules/@pulumi/azure-native/<module>/*.d.ts).

/** What a rule may know besides the resource's inputs. */
export interface RuleContext {
  /** Pulumi logical name of the resource (stable and known at preview, unlike Azure ids). */
  readonly name: string;
  /** The resource has Pulumi's `protect` option: index.ts sets it on stateful resources of production stacks. */
  readonly protect: boolean;
  /** The stack is marked production (policy config `production`, or keyless:production offline). */
  readonly production: boolean;
  /** Logical names of role assignments allowed at subscription scope (policy config `allowSubscriptionScopeGrants`). */
  readonly allowSubscriptionScopeGrants: readonly string[];
}

/** JSON schema of one config property, as @pulumi/policy's configSchema takes it. */
export interface ConfigProperty {
  readonly type: "boolean" | "array";
  readonly items?: { readonly type: "string" };
  readonly default?: unknown;
  readonly description: string;
}

export interface Rule {
  /** keyless-<service>-<rule>. */
  readonly name: string;
  /** One-line rationale. */
  readonly description: string;
  /** azure-native type tokens the rule inspects. */
  readonly types: readonly string[];
  /** Policy pack config this rule reads (pulumi preview --policy-pack-config). */
  readonly config?: Readonly<Record<string, ConfigProperty>>;
  /** Violation messages; empty when compliant. */
  readonly check: (type: string, props: Record<string, any>, context: RuleContext) => string[];
}

export const types = {
  storageAccount: "azure-native:storage:StorageAccount",
  vault: "azure-native:keyvault:Vault",
  registry: "azure-native:containerregistry:Registry",
  cluster: "azure-native:containerservice:ManagedCluster",
  roleAssignment: "azure-native:authorization:RoleAssignment",
  registrationDefinition: "azure-native:managedservices:RegistrationDefinition",
  virtualMachine: "azure-native:compute:VirtualMachine",
  networkSecurityGroup: "azure-native:network:NetworkSecurityGroup",
  securityRule: "azure-native:network:SecurityRule",
} as const;

/**
 * Microsoft Graph (azuread) types that create a long-lived application credential: a client secret
 * or a certificate on an application or a service principal. Keyless apps sign in with federated
 * identity credentials only (docs/gallery.md); an Application's inline `password` block is refused
 * by the same rule.
 */
export const entraSecretTypes = {
  application: "azuread:index/application:Application",
  applicationPassword: "azuread:index/applicationPassword:ApplicationPassword",
  applicationCertificate: "azuread:index/applicationCertificate:ApplicationCertificate",
  servicePrincipalPassword: "azuread:index/servicePrincipalPassword:ServicePrincipalPassword",
  servicePrincipalCertificate: "azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate",
  servicePrincipalTokenSigningCertificate: "azuread:index/servicePrincipalTokenSigningCertificate:ServicePrincipalTokenSigningCertificate",
} as const;

/** Tag a ManagedCluster must carry (value "true") when it enables the deprecated pod identity add-on. */
export const podIdentityAcknowledgementTag = "keyless-pod-identity-acknowledged";

const show = (v: unknown): string => (v === undefined ? "unset" : JSON.stringify(v));

/** The built-in role a role definition id (full id or bare GUID) names, if this project knows it. */
export function roleOf(roleDefinitionId: unknown): BuiltInRoleName | undefined {
  if (typeof roleDefinitionId !== "string") return undefined;
  const guid = roleDefinitionId.split("/").pop()?.toLowerCase();
  return (Object.keys(builtInRoles) as BuiltInRoleName[]).find((name) => builtInRoles[name] === guid);
}

const privilegedRoles: readonly BuiltInRoleName[] = ["Owner", "User Access Administrator"];

/** A rule that checks one property path against an expectation. */
function expect(path: readonly string[], ok: (v: unknown) => boolean, rule: string): Rule["check"] {
  return (_type, props) => {
    let v: any = props;
    for (const p of path) v = v?.[p];
    return ok(v) ? [] : [`${path.join(".")} is ${show(v)}; ${rule}`];
  };
}

/** Does a port spec ("22", "*", "20-30") include port 22? */
function coversSsh(spec: unknown): boolean {
  if (typeof spec !== "string") return false;
  const s = spec.trim();
  if (s === "*") return true;
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return false;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return lo <= 22 && 22 <= hi;
}

const internetSources = new Set(["*", "internet", "0.0.0.0/0", "any"]);

/** Violations of one NSG rule (inline in an NSG's securityRules or a standalone SecurityRule). */
function sshFromInternet(rule: Record<string, any>, label: string): string[] {
  if (String(rule.direction ?? "").toLowerCase() !== "inbound" || String(rule.access ?? "").toLowerCase() !== "allow") return [];
  if (!["tcp", "*"].includes(String(rule.protocol ?? "*").toLowerCase())) return [];
  const ports = [rule.destinationPortRange, ...(rule.destinationPortRanges ?? [])];
  if (!ports.some(coversSsh)) return [];
  const sources = [rule.sourceAddressPrefix, ...(rule.sourceAddressPrefixes ?? [])].filter((s) => typeof s === "string");
  const open = sources.find((s: string) => internetSources.has(s.trim().toLowerCase()));
  return open === undefined ? [] : [`${label} allows inbound SSH (port 22) from ${JSON.stringify(open)}; allow it from a bastion or a named address range only`];
}

export const rules: readonly Rule[] = [
  {
    name: "keyless-storage-no-public-blob-access",
    description: "Storage accounts never serve anonymous blob reads: every read is an Entra ID identity.",
    types: [types.storageAccount],
    check: expect(["allowBlobPublicAccess"], (v) => v === false, "must be false (no anonymous blob access)"),
  },
  {
    name: "keyless-storage-tls12",
    description: "Storage accounts refuse TLS below 1.2.",
    types: [types.storageAccount],
    check: expect(["minimumTlsVersion"], (v) => v === "TLS1_2" || v === "TLS1_3", "must be TLS1_2 or newer"),
  },
  {
    name: "keyless-storage-https-only",
    description: "Storage accounts accept HTTPS only, so tokens never cross the wire in clear.",
    types: [types.storageAccount],
    check: expect(["enableHttpsTrafficOnly"], (v) => v === true, "must be true (HTTPS only)"),
  },
  {
    name: "keyless-storage-shared-key-off",
    description: "Storage accounts refuse account keys and SAS: identities are the only way in.",
    types: [types.storageAccount],
    check: expect(["allowSharedKeyAccess"], (v) => v === false, "must be false (shared key and SAS authorization off; Azure's default allows it)"),
  },
  {
    name: "keyless-keyvault-rbac-authorization",
    description: "Key Vaults are authorized by Azure RBAC, not access policies, so grants are auditable role assignments.",
    types: [types.vault],
    check: expect(["properties", "enableRbacAuthorization"], (v) => v === true, "must be true (Azure RBAC, not access policies)"),
  },
  {
    name: "keyless-keyvault-soft-delete",
    description: "Key Vaults keep soft delete on, so a deleted vault or secret can be recovered.",
    types: [types.vault],
    check: expect(["properties", "enableSoftDelete"], (v) => v !== false, "must not be false (soft delete stays on)"),
  },
  {
    name: "keyless-keyvault-purge-protection",
    description: "Key Vaults of production stacks have purge protection, so a mistaken purge cannot destroy their secrets.",
    types: [types.vault],
    config: {
      production: { type: "boolean", default: false, description: "The stack is production: its vaults must have purge protection." },
    },
    check: (type, props, context) =>
      context.production || context.protect
        ? expect(["properties", "enablePurgeProtection"], (v) => v === true, "must be true on a production stack (a purged vault cannot be recovered)")(type, props, context)
        : [],
  },
  {
    name: "keyless-acr-admin-user-off",
    description: "Container registries have no admin user: its username and password are a shared secret.",
    types: [types.registry],
    check: expect(["adminUserEnabled"], (v) => v !== true, "must be false (pull with an identity holding AcrPull)"),
  },
  {
    name: "keyless-acr-anonymous-pull-off",
    description: "Container registries refuse anonymous pulls.",
    types: [types.registry],
    check: expect(["anonymousPullEnabled"], (v) => v !== true, "must be false (no anonymous pull)"),
  },
  {
    name: "keyless-aks-entra-rbac",
    description: "AKS clusters authenticate with Entra ID and authorize with Azure RBAC.",
    types: [types.cluster],
    check: (type, props, context) => [
      ...expect(["aadProfile", "managed"], (v) => v === true, "must be true (Entra ID integration)")(type, props, context),
      ...expect(["aadProfile", "enableAzureRBAC"], (v) => v === true, "must be true (Azure RBAC for Kubernetes authorization)")(type, props, context),
    ],
  },
  {
    name: "keyless-aks-local-accounts-off",
    description: "AKS clusters have no local admin account: its kubeconfig is a static credential.",
    types: [types.cluster],
    check: expect(["disableLocalAccounts"], (v) => v === true, "must be true (no static cluster-admin kubeconfig)"),
  },
  {
    name: "keyless-aks-network-policy",
    description: "AKS clusters enforce a network policy engine, so pod traffic can be restricted.",
    types: [types.cluster],
    check: expect(["networkProfile", "networkPolicy"], (v) => typeof v === "string" && v !== "" && v.toLowerCase() !== "none", "must name a network policy engine (azure, calico or cilium)"),
  },
  {
    name: "keyless-aks-pod-identity-acknowledged",
    description: "The deprecated AAD pod identity add-on is enabled only with an explicit acknowledgement tag.",
    types: [types.cluster],
    check: (_type, props) =>
      props.podIdentityProfile?.enabled === true && props.tags?.[podIdentityAcknowledgementTag] !== "true"
        ? [`podIdentityProfile.enabled is true without tag ${podIdentityAcknowledgementTag}: "true"; the add-on is deprecated (use workload identity) and needs an explicit acknowledgement (keyless:aks.acknowledgeDeprecatedPodIdentity)`]
        : [],
  },
  {
    name: "keyless-rbac-principal-type",
    description: "Role assignments name their principalType, so a brand-new identity does not fail with PrincipalNotFound.",
    types: [types.roleAssignment],
    check: expect(["principalType"], (v) => typeof v === "string" && v !== "", "must be set (ServicePrincipal for managed identities)"),
  },
  {
    name: "keyless-rbac-no-privileged-roles",
    description: "This program never grants Owner or User Access Administrator: nothing it creates may hand out access.",
    types: [types.roleAssignment],
    check: (_type, props) => {
      const role = roleOf(props.roleDefinitionId);
      return role && privilegedRoles.includes(role) ? [`roleDefinitionId grants ${role}; keyless never grants Owner or User Access Administrator`] : [];
    },
  },
  {
    name: "keyless-rbac-no-subscription-scope",
    description: "Role assignments are scoped to a resource or resource group; subscription scope only when allow-listed by name.",
    types: [types.roleAssignment],
    config: {
      allowSubscriptionScopeGrants: { type: "array", items: { type: "string" }, default: [], description: "Logical names of role assignments allowed at subscription scope." },
    },
    check: (_type, props, context) => {
      const scope = props.scope;
      if (typeof scope !== "string") return [];
      const trimmed = scope.replace(/\/+$/, "");
      if (trimmed === "" || /^\/providers\/Microsoft\.Management\/managementGroups\//i.test(trimmed)) {
        return [`scope ${JSON.stringify(scope)} is wider than a subscription; grant at a resource or resource group`];
      }
      if (/^\/subscriptions\/[^/]+$/i.test(trimmed) && !context.allowSubscriptionScopeGrants.includes(context.name)) {
        return [`scope ${JSON.stringify(scope)} is a whole subscription; grant at a resource or resource group, or allow-list ${JSON.stringify(context.name)} in allowSubscriptionScopeGrants`];
      }
      return [];
    },
  },
  {
    name: "keyless-lighthouse-no-owner",
    description: "Lighthouse authorizations never give the managing tenant Owner (Azure refuses it, and so do we, before deploy).",
    types: [types.registrationDefinition],
    check: (_type, props) => lighthouseRoles(props).filter(([, role]) => role === "Owner").map(([where]) => `${where} grants Owner; Lighthouse does not allow Owner`),
  },
  {
    name: "keyless-lighthouse-no-data-actions",
    description: "Lighthouse authorizations hold no role with DataActions (Azure Lighthouse does not support them).",
    types: [types.registrationDefinition],
    check: (_type, props) =>
      lighthouseRoles(props)
        .filter(([, role]) => role !== undefined && rolesWithDataActions.has(role))
        .map(([where, role]) => `${where} grants ${role}, a role with DataActions; Lighthouse does not support those`),
  },
  {
    name: "keyless-lighthouse-gallery-roles",
    description: "Lighthouse authorizations of the gallery only read images: no Contributor, no User Access Administrator, nothing that hands out access.",
    types: [types.registrationDefinition],
    check: (_type, props) =>
      lighthouseGalleryGuids(props)
        // Owner and DataActions roles have their own rules (one message per mistake).
        .filter(([, role]) => role === undefined || (role !== "Owner" && !rolesWithDataActions.has(role) && !lighthouseGalleryRoles.includes(role)))
        .map(([where, role, guid]) => `${where} grants ${role ?? `role ${JSON.stringify(guid)}`}; keyless delegates only ${lighthouseGalleryRoles.join(", ")} (a gallery delegation only reads images)`),
  },
  {
    name: "keyless-entra-no-app-secrets",
    description: "Entra applications and service principals get no client secret and no certificate: consumers sign in with federated identity credentials.",
    types: Object.values(entraSecretTypes),
    check: (type, props) => {
      if (type === entraSecretTypes.application) {
        return props.password === undefined || props.password === null ? [] : ["password is set; keyless apps have no client secret (sign in with a federated identity credential)"];
      }
      const kind = type.split(":").pop();
      return [`${kind} creates a long-lived credential; keyless apps have no client secret or certificate (sign in with a federated identity credential)`];
    },
  },
  {
    name: "keyless-vm-no-password-auth",
    description: "Linux VMs accept SSH keys only; no admin password exists to leak.",
    types: [types.virtualMachine],
    check: (_type, props) => {
      const os = props.osProfile;
      if (os === undefined) return []; // an attached OS disk: no provisioning-time credentials at all
      const out: string[] = [];
      if (os.adminPassword !== undefined) out.push("osProfile.adminPassword is set; keyless VMs have no password");
      const v = os.linuxConfiguration?.disablePasswordAuthentication;
      if (v !== true) out.push(`osProfile.linuxConfiguration.disablePasswordAuthentication is ${show(v)}; must be true (SSH keys only)`);
      return out;
    },
  },
  {
    name: "keyless-vm-no-ssh-from-internet",
    description: "No network security rule opens SSH (22) to the whole internet.",
    types: [types.networkSecurityGroup, types.securityRule],
    check: (type, props) =>
      type === types.securityRule
        ? sshFromInternet(props, "the security rule")
        : ((props.securityRules ?? []) as Record<string, any>[]).flatMap((r, i) => sshFromInternet(r, `securityRules[${r.name === undefined ? i : JSON.stringify(r.name)}]`)),
  },
];

/** Each Lighthouse authorization as [where, role name or undefined]. */
function lighthouseRoles(props: Record<string, any>): [string, BuiltInRoleName | undefined][] {
  const out: [string, BuiltInRoleName | undefined][] = [];
  for (const list of ["authorizations", "eligibleAuthorizations"] as const) {
    const items = (props.properties?.[list] ?? []) as Record<string, any>[];
    items.forEach((a, i) => out.push([`properties.${list}[${i}]`, roleOf(a.roleDefinitionId)]));
  }
  return out;
}

/** Each Lighthouse authorization as [where, role name or undefined, the role GUID as given]. */
function lighthouseGalleryGuids(props: Record<string, any>): [string, BuiltInRoleName | undefined, unknown][] {
  const out: [string, BuiltInRoleName | undefined, unknown][] = [];
  for (const list of ["authorizations", "eligibleAuthorizations"] as const) {
    const items = (props.properties?.[list] ?? []) as Record<string, any>[];
    items.forEach((a, i) => out.push([`properties.${list}[${i}]`, roleOf(a.roleDefinitionId), a.roleDefinitionId]));
  }
  return out;
}

/** Every violation of every rule for one resource, as [rule name, message]. */
export function evaluate(type: string, props: Record<string, any>, context: RuleContext): [string, string][] {
  return rules.filter((r) => r.types.includes(type)).flatMap((r) => r.check(type, props, context).map((m): [string, string] => [r.name, m]));
}
