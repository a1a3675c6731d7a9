import { describe, expect, it } from "vitest";
import { parseConfig } from "../lib/config";
import { onboardingMethod } from "../lib/config/arc";
import { root, withConfig } from "./support/harness";
import { readStackConfig } from "../tools/plan/stack-file";

// keyless:arc and keyless:arcSecrets: every rule has one message naming the key, the value and the rule.

const fleet = readStackConfig(`${root}/stacks/arc-fleet.yaml`, { "keyless:registerProviders": "true" });
const secretKeys = new Set(fleet.secretKeys);
const arc = JSON.parse(fleet.values["keyless:arc"]) as { servers: Record<string, unknown>[]; [k: string]: unknown };
const secrets = JSON.parse(fleet.values["keyless:arcSecrets"]) as { sshPrivateKeys: Record<string, string>; [k: string]: unknown };
const spId = "3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f";

function errorsFor(changes: Record<string, unknown>, keys = secretKeys): readonly string[] {
  const r = parseConfig({ values: withConfig(fleet.values, changes), secretKeys: keys, project: "keyless", stack: "arc" });
  return r.ok ? [] : r.errors;
}

const server = (i: number, patch: Record<string, unknown>) => ({ ...arc, servers: arc.servers.map((s, j) => (j === i ? { ...s, ...patch } : s)) });
const linux1 = arc.servers[0];

describe("keyless:arc", () => {
  it("accepts the example fleet", () => {
    const r = parseConfig({ values: fleet.values, secretKeys, project: "keyless", stack: "arc" });
    expect(r.ok && r.config.arc?.servers.map((s) => `${s.name}/${s.os}/${s.onboard}`)).toEqual(["arc-lnx-01/linux/ssh", "arc-lnx-02/linux/ssh", "arc-win-01/windows/existing"]);
    expect(r.ok && r.config.arc?.servers[0].ssh).toEqual({ host: "203.0.113.10", user: "ubuntu", port: 22 });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["duplicate server names", { "keyless:arc": { ...arc, servers: [...arc.servers, { ...linux1, name: "ARC-LNX-01" }] } }, 'keyless:arc.servers[3]: {"name":"ARC-LNX-01","os":"linux","onboard":"ssh","ssh":{"host":"203.0.113.10","user":"ubuntu","port":22},"users":["azureuser"]} is listed twice; server names must be unique'],
    ["ssh without ssh", { "keyless:arc": server(0, { ssh: undefined }) }, 'keyless:arc.servers[0].onboard: "ssh" needs ssh: { host, user, port } on the same server (the stack connects the agent over SSH)'],
    ["windows with users", { "keyless:arc": server(2, { users: ["admin"] }) }, 'keyless:arc.servers[2].users: ["admin"] is for Linux only (the himds group); on Windows grant the local Administrators or Hybrid agent extension applications group yourself'],
    ["unknown container", { "keyless:arc": { ...arc, grants: { blobContainers: ["arcupload", "nosuch"], keyVault: "secrets-user" } } }, 'keyless:arc.grants.blobContainers[1]: "nosuch" must be one of keyless:storage.containers (arcupload, arclogs)'],
    ["machine name characters", { "keyless:arc": server(2, { name: "arc_win.01" }) }, 'keyless:arc.servers[2].name: "arc_win.01" must be 1-54 letters, digits and hyphens, starting and ending with a letter or digit'],
    ["machine name length", { "keyless:arc": server(2, { name: "a".repeat(55) }) }, `keyless:arc.servers[2].name: "${"a".repeat(55)}" must be 1-54 letters, digits and hyphens, starting and ending with a letter or digit`],
    ["servicePrincipalId", { "keyless:arc": { ...arc, onboarding: { method: "service-principal", servicePrincipalId: "arc-onboarder" } }, "keyless:arcSecrets": { ...secrets, servicePrincipalSecret: "s" } }, 'keyless:arc.onboarding.servicePrincipalId: "arc-onboarder" must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)'],
    [
      "vault closed to the servers that read it",
      { "keyless:keyVault": { publicNetworkAccess: "Disabled" } },
      'keyless:keyVault.publicNetworkAccess: "Disabled" cannot be used with keyless:arc.grants.keyVault "secrets-user": the Arc servers read the vault from outside Azure, and destroy deletes the probe secret through the vault\'s data plane, neither of which works without a private endpoint (this stack creates none); keep "Enabled", or set keyless:arc.grants.keyVault: none',
    ],
    ["onboarding method", { "keyless:arc": { ...arc, onboarding: { method: "device-code" } } }, 'keyless:arc.onboarding.method: "device-code" must be one of access-token | service-principal'],
    ["access-token with a service principal secret", { "keyless:arcSecrets": { ...secrets, servicePrincipalSecret: "s" } }, "keyless:arcSecrets.servicePrincipalSecret: [secret] must not be set with keyless:arc.onboarding.method: access-token (a long-lived secret nothing uses); remove it (pulumi config rm --path 'keyless:arcSecrets.servicePrincipalSecret') or set method: service-principal"],
    ["access-token with a servicePrincipalId", { "keyless:arc": { ...arc, onboarding: { method: "access-token", servicePrincipalId: spId } } }, `keyless:arc.onboarding.servicePrincipalId: "${spId}" is for method: service-principal only; with method: access-token the identity running \`pulumi up\` onboards`],
    ["service-principal without its id", { "keyless:arc": { ...arc, onboarding: { method: "service-principal" } }, "keyless:arcSecrets": { ...secrets, servicePrincipalSecret: "s" } }, "keyless:arc.onboarding.servicePrincipalId: is required with method: service-principal when a server has onboard: ssh (arc-lnx-01): the application id azcmagent connects with"],
    ["SSH key for a server that does not exist", { "keyless:arcSecrets": { ...secrets, sshPrivateKeys: { ...secrets.sshPrivateKeys, "arc-lnx-09": "k" } } }, "keyless:arcSecrets.sshPrivateKeys.arc-lnx-09: [secret] is for no onboard: ssh server in keyless:arc.servers (arc-lnx-01, arc-lnx-02); remove it (pulumi config rm --path 'keyless:arcSecrets.sshPrivateKeys.arc-lnx-09')"],
    ["tag value with a comma", { "keyless:tags": { owner: "platform,ops" } }, `keyless:tags.owner: "platform,ops" cannot be passed to azcmagent connect --tags (the character ,; its syntax is Name=Value,Name='Value with spaces' and has no escape for these): rename or drop the tag while keyless:arc onboards servers`],
    ["tag name with an equals sign", { "keyless:tags": { "cost=center": "42" } }, `keyless:tags.cost=center: "42" cannot be passed to azcmagent connect --tags (the character =; its syntax is Name=Value,Name='Value with spaces' and has no escape for these): rename or drop the tag while keyless:arc onboards servers`],
    ["tag value with a quote", { "keyless:tags": { owner: "o'brien" } }, `keyless:tags.owner: "o'brien" cannot be passed to azcmagent connect --tags (the character '; its syntax is Name=Value,Name='Value with spaces' and has no escape for these): rename or drop the tag while keyless:arc onboards servers`],
    ["tag value with a control character", { "keyless:tags": { owner: "a\nb" } }, `keyless:tags.owner: "a\\nb" cannot be passed to azcmagent connect --tags (a control character; its syntax is Name=Value,Name='Value with spaces' and has no escape for these): rename or drop the tag while keyless:arc onboards servers`],
    ["secret name", { "keyless:arc": { ...arc, grants: { blobContainers: [], keyVault: "secrets-user", keyVaultSecrets: ["app_config"] } } }, 'keyless:arc.grants.keyVaultSecrets[0]: "app_config" must be a Key Vault secret name (1-127 letters, digits and hyphens)'],
    ["secrets without a role", { "keyless:arc": { ...arc, grants: { blobContainers: [], keyVault: "none", keyVaultSecrets: ["app-config"] } } }, 'keyless:arc.grants.keyVaultSecrets: ["app-config"] needs keyless:arc.grants.keyVault other than none (the role the servers read them with)'],
    ["certificates without asking for the vault", { "keyless:arc": { ...arc, grants: { blobContainers: [], keyVault: "secrets-and-certificates-user" } } }, 'keyless:arc.grants.keyVault: "secrets-and-certificates-user" grants certificates vault-wide: set keyless:arc.grants.keyVaultScope: vault to ask for that explicitly, or use secrets-user'],
    ["existing without resourceGroup", { "keyless:arc": server(2, { resourceGroup: undefined }) }, 'keyless:arc.servers[2].onboard: "existing" needs resourceGroup: the group the machine was onboarded into (the stack adopts it there and never deletes it)'],
    ["os value", { "keyless:arc": server(0, { os: "macos" }) }, 'keyless:arc.servers[0].os: "macos" must be one of linux | windows'],
    ["keyVault value", { "keyless:arc": { ...arc, grants: { blobContainers: [], keyVault: "admin" } } }, 'keyless:arc.grants.keyVault: "admin" must be one of none | secrets-user | secrets-and-certificates-user'],
    ["ssh port", { "keyless:arc": server(0, { ssh: { host: "203.0.113.10", user: "ubuntu", port: 0 } }) }, "keyless:arc.servers[0].ssh.port: 0 must be a whole number from 1 to 65535"],
    ["missing SP secret", { "keyless:arc": { ...arc, onboarding: { servicePrincipalId: spId } } }, "keyless:arcSecrets.servicePrincipalSecret: is required with method: service-principal when a server has onboard: ssh (pulumi config set --secret --path 'keyless:arcSecrets.servicePrincipalSecret' ...)"],
    ["missing SSH key", { "keyless:arcSecrets": { ...secrets, sshPrivateKeys: { "arc-lnx-01": "k" } } }, "keyless:arcSecrets.sshPrivateKeys.arc-lnx-02: is required for onboard: ssh server arc-lnx-02 (pulumi config set --secret --path 'keyless:arcSecrets.sshPrivateKeys.arc-lnx-02' < key)"],
  ])("%s", (_, changes, message) => {
    expect(errorsFor(changes)).toEqual([message]);
  });

  it("accepts a vault closed to public access when the servers do not read it", () => {
    expect(errorsFor({ "keyless:keyVault": { publicNetworkAccess: "Disabled" }, "keyless:arc": { ...arc, grants: { blobContainers: ["arcupload"], keyVault: "none" } } })).toEqual([]);
  });

  it("onboards with an access token by default; a servicePrincipalId without method keeps meaning service-principal", () => {
    const parse = (changes: Record<string, unknown>) => parseConfig({ values: withConfig(fleet.values, changes), secretKeys, project: "keyless", stack: "arc" });
    const none = parse({ "keyless:arc": { ...arc, onboarding: undefined } });
    expect(none.ok && none.config.arc && onboardingMethod(none.config.arc)).toBe("access-token");
    const legacy = parse({ "keyless:arc": { ...arc, onboarding: { servicePrincipalId: spId } }, "keyless:arcSecrets": { ...secrets, servicePrincipalSecret: "s" } });
    expect(legacy.ok && legacy.config.arc && onboardingMethod(legacy.config.arc)).toBe("service-principal");
    // A fleet of adopted servers only needs no onboarding credential at all.
    const adopted = parse({ "keyless:arc": { ...arc, servers: [arc.servers[2]], onboarding: undefined }, "keyless:arcSecrets": undefined });
    expect(adopted.ok).toBe(true);
  });

  it("refuses arcSecrets stored in clear, without printing it", () => {
    expect(errorsFor({}, new Set())).toEqual(["keyless:arcSecrets: [value hidden] must be stored as a secret (pulumi config set --secret keyless:arcSecrets ...)"]);
  });

  it("never prints a secret value in a message", () => {
    const errors = errorsFor({ "keyless:arcSecrets": { servicePrincipalSecret: 42, sshPrivateKeys: {} } });
    expect(errors[0]).toBe("keyless:arcSecrets.servicePrincipalSecret: [secret] must be a string");
  });
});
