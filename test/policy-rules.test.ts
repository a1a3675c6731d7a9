import type { ResourceValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { roleDefinitionId, roleGuid } from "../lib/roles";
import { policies } from "../policy/policies";
import { entraSecretTypes, evaluate, podIdentityAcknowledgementTag, type RuleContext, rules, types } from "../policy/rules";

// Every rule the way good policy packs are tested: a compliant fixture passes, one property
// mutated fails with the exact message. Fixtures use azure-native v3 input shapes.

const sub = "/subscriptions/5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b";
const rg = `${sub}/resourceGroups/rg-keyless-dev-shared`;
const base: RuleContext = { name: "fixture", protect: false, production: false, allowSubscriptionScopeGrants: [] };

const compliant: Record<string, Record<string, any>> = {
  [types.storageAccount]: { allowBlobPublicAccess: false, minimumTlsVersion: "TLS1_2", enableHttpsTrafficOnly: true, allowSharedKeyAccess: false },
  [types.vault]: { properties: { enableRbacAuthorization: true, enableSoftDelete: true, enablePurgeProtection: true } },
  [types.registry]: { adminUserEnabled: false, anonymousPullEnabled: false },
  [types.cluster]: { aadProfile: { managed: true, enableAzureRBAC: true }, disableLocalAccounts: true, networkProfile: { networkPolicy: "azure" }, podIdentityProfile: { enabled: false } },
  [types.roleAssignment]: { principalType: "ServicePrincipal", roleDefinitionId: roleDefinitionId("5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b", "AcrPull"), scope: `${rg}/providers/Microsoft.ContainerRegistry/registries/crkeylessdev` },
  [types.registrationDefinition]: { properties: { authorizations: [{ principalId: "p", roleDefinitionId: roleGuid("Reader") }, { principalId: "p", roleDefinitionId: roleGuid("Compute Gallery Image Reader") }] } },
  [entraSecretTypes.application]: { displayName: "Contoso image consumers", signInAudience: "AzureADMultipleOrgs", owners: ["0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"] },
  [types.virtualMachine]: { osProfile: { adminUsername: "azureuser", linuxConfiguration: { disablePasswordAuthentication: true, ssh: { publicKeys: [] } } } },
  [types.networkSecurityGroup]: {
    securityRules: [
      { name: "ssh-from-bastion", direction: "Inbound", access: "Allow", protocol: "Tcp", destinationPortRange: "22", sourceAddressPrefix: "10.0.1.0/26" },
      { name: "https", direction: "Inbound", access: "Allow", protocol: "Tcp", destinationPortRange: "443", sourceAddressPrefix: "*" },
      { name: "deny-ssh", direction: "Inbound", access: "Deny", protocol: "*", destinationPortRange: "22", sourceAddressPrefix: "*" },
    ],
  },
  [types.securityRule]: { direction: "Inbound", access: "Allow", protocol: "Tcp", destinationPortRange: "22", sourceAddressPrefix: "VirtualNetwork" },
};

/** A deep copy with one property (dot path, [i] for list items) set. */
function mutate(props: Record<string, any>, path: string, value: unknown): Record<string, any> {
  const copy = structuredClone(props);
  const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== "");
  let at: any = copy;
  for (const k of keys.slice(0, -1)) at = at[k];
  if (value === undefined) delete at[keys[keys.length - 1]];
  else at[keys[keys.length - 1]] = value;
  return copy;
}

// [rule, type, path, value, context changes, exact message]
const cases: [string, string, string, unknown, Partial<RuleContext>, string][] = [
  ["keyless-storage-no-public-blob-access", types.storageAccount, "allowBlobPublicAccess", true, {}, "allowBlobPublicAccess is true; must be false (no anonymous blob access)"],
  ["keyless-storage-tls12", types.storageAccount, "minimumTlsVersion", "TLS1_0", {}, 'minimumTlsVersion is "TLS1_0"; must be TLS1_2 or newer'],
  ["keyless-storage-https-only", types.storageAccount, "enableHttpsTrafficOnly", false, {}, "enableHttpsTrafficOnly is false; must be true (HTTPS only)"],
  ["keyless-storage-shared-key-off", types.storageAccount, "allowSharedKeyAccess", undefined, {}, "allowSharedKeyAccess is unset; must be false (shared key and SAS authorization off; Azure's default allows it)"],
  ["keyless-keyvault-rbac-authorization", types.vault, "properties.enableRbacAuthorization", false, {}, "properties.enableRbacAuthorization is false; must be true (Azure RBAC, not access policies)"],
  ["keyless-keyvault-soft-delete", types.vault, "properties.enableSoftDelete", false, {}, "properties.enableSoftDelete is false; must not be false (soft delete stays on)"],
  ["keyless-keyvault-purge-protection", types.vault, "properties.enablePurgeProtection", undefined, { production: true }, "properties.enablePurgeProtection is unset; must be true on a production stack (a purged vault cannot be recovered)"],
  ["keyless-keyvault-purge-protection", types.vault, "properties.enablePurgeProtection", undefined, { protect: true }, "properties.enablePurgeProtection is unset; must be true on a production stack (a purged vault cannot be recovered)"],
  ["keyless-acr-admin-user-off", types.registry, "adminUserEnabled", true, {}, "adminUserEnabled is true; must be false (pull with an identity holding AcrPull)"],
  ["keyless-acr-anonymous-pull-off", types.registry, "anonymousPullEnabled", true, {}, "anonymousPullEnabled is true; must be false (no anonymous pull)"],
  ["keyless-aks-entra-rbac", types.cluster, "aadProfile.enableAzureRBAC", false, {}, "aadProfile.enableAzureRBAC is false; must be true (Azure RBAC for Kubernetes authorization)"],
  ["keyless-aks-entra-rbac", types.cluster, "aadProfile.managed", undefined, {}, "aadProfile.managed is unset; must be true (Entra ID integration)"],
  ["keyless-aks-local-accounts-off", types.cluster, "disableLocalAccounts", false, {}, "disableLocalAccounts is false; must be true (no static cluster-admin kubeconfig)"],
  ["keyless-aks-network-policy", types.cluster, "networkProfile.networkPolicy", "none", {}, 'networkProfile.networkPolicy is "none"; must name a network policy engine (azure, calico or cilium)'],
  ["keyless-aks-pod-identity-acknowledged", types.cluster, "podIdentityProfile.enabled", true, {}, `podIdentityProfile.enabled is true without tag ${podIdentityAcknowledgementTag}: "true"; the add-on is deprecated (use workload identity) and needs an explicit acknowledgement (keyless:aks.acknowledgeDeprecatedPodIdentity)`],
  ["keyless-rbac-principal-type", types.roleAssignment, "principalType", undefined, {}, "principalType is unset; must be set (ServicePrincipal for managed identities)"],
  ["keyless-rbac-no-privileged-roles", types.roleAssignment, "roleDefinitionId", roleDefinitionId("s", "Owner"), {}, "roleDefinitionId grants Owner; keyless never grants Owner or User Access Administrator"],
  ["keyless-rbac-no-privileged-roles", types.roleAssignment, "roleDefinitionId", roleDefinitionId("s", "User Access Administrator"), {}, "roleDefinitionId grants User Access Administrator; keyless never grants Owner or User Access Administrator"],
  ["keyless-rbac-no-subscription-scope", types.roleAssignment, "scope", sub, {}, `scope "${sub}" is a whole subscription; grant at a resource or resource group, or allow-list "fixture" in allowSubscriptionScopeGrants`],
  ["keyless-rbac-no-subscription-scope", types.roleAssignment, "scope", "/providers/Microsoft.Management/managementGroups/root", {}, 'scope "/providers/Microsoft.Management/managementGroups/root" is wider than a subscription; grant at a resource or resource group'],
  ["keyless-lighthouse-no-owner", types.registrationDefinition, "properties.authorizations[1].roleDefinitionId", roleGuid("Owner"), {}, "properties.authorizations[1] grants Owner; Lighthouse does not allow Owner"],
  ["keyless-lighthouse-no-data-actions", types.registrationDefinition, "properties.authorizations[0].roleDefinitionId", roleGuid("Storage Blob Data Reader"), {}, "properties.authorizations[0] grants Storage Blob Data Reader, a role with DataActions; Lighthouse does not support those"],
  ["keyless-lighthouse-gallery-roles", types.registrationDefinition, "properties.authorizations[1].roleDefinitionId", roleGuid("Contributor"), {}, "properties.authorizations[1] grants Contributor; keyless delegates only Reader, Compute Gallery Image Reader, Managed Services Registration assignment Delete Role (a gallery delegation only reads images)"],
  ["keyless-lighthouse-gallery-roles", types.registrationDefinition, "properties.authorizations[0].roleDefinitionId", roleGuid("User Access Administrator"), {}, "properties.authorizations[0] grants User Access Administrator; keyless delegates only Reader, Compute Gallery Image Reader, Managed Services Registration assignment Delete Role (a gallery delegation only reads images)"],
  ["keyless-lighthouse-gallery-roles", types.registrationDefinition, "properties.eligibleAuthorizations", [{ principalId: "p", roleDefinitionId: "00000000-0000-0000-0000-000000000001" }], {}, 'properties.eligibleAuthorizations[0] grants role "00000000-0000-0000-0000-000000000001"; keyless delegates only Reader, Compute Gallery Image Reader, Managed Services Registration assignment Delete Role (a gallery delegation only reads images)'],
  ["keyless-entra-no-app-secrets", entraSecretTypes.application, "password", { displayName: "ci" }, {}, "password is set; keyless apps have no client secret (sign in with a federated identity credential)"],
  ["keyless-vm-no-password-auth", types.virtualMachine, "osProfile.linuxConfiguration.disablePasswordAuthentication", false, {}, "osProfile.linuxConfiguration.disablePasswordAuthentication is false; must be true (SSH keys only)"],
  ["keyless-vm-no-password-auth", types.virtualMachine, "osProfile.adminPassword", "[secret]", {}, "osProfile.adminPassword is set; keyless VMs have no password"],
  ["keyless-vm-no-ssh-from-internet", types.networkSecurityGroup, "securityRules[0].sourceAddressPrefix", "Internet", {}, 'securityRules["ssh-from-bastion"] allows inbound SSH (port 22) from "Internet"; allow it from a bastion or a named address range only'],
  ["keyless-vm-no-ssh-from-internet", types.networkSecurityGroup, "securityRules[1].destinationPortRange", "20-30", {}, 'securityRules["https"] allows inbound SSH (port 22) from "*"; allow it from a bastion or a named address range only'],
  ["keyless-vm-no-ssh-from-internet", types.securityRule, "sourceAddressPrefix", "0.0.0.0/0", {}, 'the security rule allows inbound SSH (port 22) from "0.0.0.0/0"; allow it from a bastion or a named address range only'],
];

describe("the rules", () => {
  it("are named keyless-<service>-<rule>, unique, each with a one-line rationale", () => {
    const names = rules.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    for (const r of rules) {
      expect(r.name).toMatch(/^keyless-(storage|keyvault|acr|aks|rbac|lighthouse|entra|vm)-[a-z0-9-]+$/);
      expect(r.description).toMatch(/^[A-Z].*\.$/);
      expect(r.description).not.toContain("\n");
    }
  });

  it.each(Object.entries(compliant))("a compliant %s passes every rule, even in production", (type, props) => {
    expect(evaluate(type, props, { ...base, production: true, protect: true })).toEqual([]);
  });

  it("covers every rule with at least one failing case", () => {
    expect(new Set(cases.map((c) => c[0]))).toEqual(new Set(rules.map((r) => r.name)));
  });

  it.each(cases)("%s: %s %s = %j fails with its message", (rule, type, path, value, ctx, message) => {
    expect(evaluate(type, mutate(compliant[type], path, value), { ...base, ...ctx })).toEqual([[rule, message]]);
  });
});

describe("no Entra application secret or certificate", () => {
  // These types exist only to create a credential: any instance is refused, whatever its inputs.
  it.each([
    [entraSecretTypes.applicationPassword, "ApplicationPassword"],
    [entraSecretTypes.applicationCertificate, "ApplicationCertificate"],
    [entraSecretTypes.servicePrincipalPassword, "ServicePrincipalPassword"],
    [entraSecretTypes.servicePrincipalCertificate, "ServicePrincipalCertificate"],
    [entraSecretTypes.servicePrincipalTokenSigningCertificate, "ServicePrincipalTokenSigningCertificate"],
  ])("%s is refused", (type, kind) => {
    expect(evaluate(type, { applicationId: "/applications/00000000-0000-0000-0000-000000000002" }, base)).toEqual([
      ["keyless-entra-no-app-secrets", `${kind} creates a long-lived credential; keyless apps have no client secret or certificate (sign in with a federated identity credential)`],
    ]);
  });

  it("a Lighthouse definition with only the allowed roles (and the delete role) passes", () => {
    const def = { properties: { authorizations: [{ roleDefinitionId: roleGuid("Compute Gallery Image Reader") }, { roleDefinitionId: roleGuid("Managed Services Registration assignment Delete Role") }], eligibleAuthorizations: [{ roleDefinitionId: roleGuid("Reader") }] } };
    expect(evaluate(types.registrationDefinition, def, base)).toEqual([]);
  });
});

describe("context-dependent rules", () => {
  const vault = mutate(compliant[types.vault], "properties.enablePurgeProtection", undefined);
  it("purge protection is not required outside production", () => {
    expect(evaluate(types.vault, vault, base)).toEqual([]);
  });

  it("an allow-listed grant may use subscription scope; others may not", () => {
    const grant = mutate(compliant[types.roleAssignment], "scope", `${sub}/`);
    expect(evaluate(types.roleAssignment, grant, { ...base, allowSubscriptionScopeGrants: ["fixture"] })).toEqual([]);
    expect(evaluate(types.roleAssignment, grant, { ...base, name: "other", allowSubscriptionScopeGrants: ["fixture"] }).map(([r]) => r)).toEqual(["keyless-rbac-no-subscription-scope"]);
  });

  it("pod identity passes with the acknowledgement tag", () => {
    const cluster = { ...mutate(compliant[types.cluster], "podIdentityProfile.enabled", true), tags: { [podIdentityAcknowledgementTag]: "true" } };
    expect(evaluate(types.cluster, cluster, base)).toEqual([]);
  });

  it("resource group scope is fine; a deny rule or another port is not SSH exposure", () => {
    expect(evaluate(types.roleAssignment, mutate(compliant[types.roleAssignment], "scope", rg), base)).toEqual([]);
    expect(evaluate(types.securityRule, { ...compliant[types.securityRule], sourceAddressPrefix: "*", access: "Deny" }, base)).toEqual([]);
    expect(evaluate(types.securityRule, { ...compliant[types.securityRule], sourceAddressPrefix: "*", destinationPortRanges: ["80", "443"], destinationPortRange: undefined }, base)).toEqual([]);
  });
});

/** Call a policy the way the analyzer server does, with the pack config of that policy. */
function runPolicy(name: string, type: string, props: Record<string, any>, config: Record<string, unknown> = {}, protect = false): string[] {
  const policy = policies.find((p) => p.name === name);
  if (!policy?.validateResource || Array.isArray(policy.validateResource)) throw new Error(`no single validateResource for ${name}`);
  const messages: string[] = [];
  const args = { type, props, urn: `urn:pulumi:dev::keyless::${type}::fixture`, name: "fixture", opts: { protect, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] }, stackTags: new Map(), isType: () => false, asType: () => undefined, getConfig: () => config, notApplicable: () => { throw new Error("n/a"); } } as unknown as ResourceValidationArgs;
  policy.validateResource(args, (m) => messages.push(m));
  return messages;
}

describe("the policy pack (@pulumi/policy API)", () => {
  it("has one mandatory policy per rule, with the rule's config schema", () => {
    expect(policies.map((p) => [p.name, p.enforcementLevel])).toEqual(rules.map((r) => [r.name, "mandatory"]));
    expect(policies.find((p) => p.name === "keyless-keyvault-purge-protection")?.configSchema).toEqual({ properties: { production: { type: "boolean", default: false, description: "The stack is production: its vaults must have purge protection." } } });
  });

  it("reports the same messages through validateResource and reads the pack config", () => {
    const [, type, path, value, , message] = cases.find((c) => c[0] === "keyless-storage-shared-key-off") as (typeof cases)[number];
    expect(runPolicy("keyless-storage-shared-key-off", type, mutate(compliant[type], path, value))).toEqual([message]);
    expect(runPolicy("keyless-storage-shared-key-off", types.vault, {})).toEqual([]); // other types are not its business
    const vault = mutate(compliant[types.vault], "properties.enablePurgeProtection", undefined);
    expect(runPolicy("keyless-keyvault-purge-protection", types.vault, vault)).toEqual([]);
    expect(runPolicy("keyless-keyvault-purge-protection", types.vault, vault, { production: true })).toHaveLength(1);
    expect(runPolicy("keyless-keyvault-purge-protection", types.vault, vault, {}, true)).toHaveLength(1);
    const grant = mutate(compliant[types.roleAssignment], "scope", sub);
    expect(runPolicy("keyless-rbac-no-subscription-scope", types.roleAssignment, grant)).toHaveLength(1);
    expect(runPolicy("keyless-rbac-no-subscription-scope", types.roleAssignment, grant, { allowSubscriptionScopeGrants: ["fixture"] })).toEqual([]);
  });
});
