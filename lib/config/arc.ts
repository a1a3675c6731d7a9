import { z } from "zod";
import { containerName } from "./platform";
import { guid, intRange, oneOf, pattern, strictObject, uniqueList } from "./rules";

// keyless:arc (servers to onboard or adopt, the onboarding service principal, the grants each
// server's identity gets) and keyless:arcSecrets (the secrets onboarding needs, secret-only).
// Cross-section checks (containers exist in keyless:storage, a secret per ssh server) live in the
// root superRefine in ./index.ts.

/**
 * Arc machine resource name. Kept to the conservative subset every Arc name check accepts and
 * that is also a legal hostname (the agent's default name): 1-54 letters, digits and hyphens,
 * starting and ending with a letter or digit (azure-docs azure-arc/servers/azcmagent-connect.md
 * `--resource-name`; resource-name-rules.md, Microsoft.HybridCompute).
 */
export const arcMachineName = pattern(/^(?=.{1,54}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/, "1-54 letters, digits and hyphens, starting and ending with a letter or digit");

/** A Key Vault secret name: 1-127 letters, digits and hyphens (azure-docs key-vault/general/about-keys-secrets-certificates.md, "Object identifiers"). */
const secretName = pattern(/^[0-9a-zA-Z-]{1,127}$/, "a Key Vault secret name (1-127 letters, digits and hyphens)");

/** A Linux account name (useradd's default rule). */
const linuxUser = pattern(/^[a-z_][a-z0-9_-]{0,31}$/, "a Linux account name (lowercase letters, digits, _ and -, at most 32)");

const ssh = strictObject({
  /** Address or DNS name the deployer reaches over SSH. */
  host: pattern(/^[A-Za-z0-9.:-]{1,253}$/, "a host name or IP address"),
  /** Account with passwordless sudo (Linux) or an administrator (Windows, OpenSSH server). */
  user: pattern(/^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/, "an account name (letters, digits, . _ -, at most 64)"),
  port: intRange(1, 65535).default(22),
});

export const arcServer = strictObject({
  name: arcMachineName,
  os: oneOf(["linux", "windows"]),
  /** ssh: this stack installs and connects the agent; existing: already onboarded, adopted as is. */
  onboard: oneOf(["ssh", "existing"]),
  ssh: ssh.optional(),
  /** Resource group of an `existing` machine (required for it: this stack never deletes a group it did not make). */
  resourceGroup: pattern(/^[-\w._()]{0,89}[-\w_()]$/, "a resource group name (1-90 letters, digits, - _ . ( ), not ending with .)").optional(),
  /** Linux accounts added to the himds group (so they may read the HIMDS key file). */
  users: uniqueList(linuxUser, "account names").optional(),
});

export const arc = strictObject({
  servers: uniqueList(arcServer, "server names", (s) => s.name.toLowerCase()).min(1, { error: "must list at least one server" }),
  /**
   * How `onboard: ssh` servers authenticate `azcmagent connect`. Optional as a whole: the default is
   * access-token (a short-lived ARM token of the identity running `pulumi up`). A servicePrincipalId
   * without a method keeps its earlier meaning, the service-principal method.
   */
  onboarding: strictObject({
    /** access-token (default) or service-principal. */
    method: oneOf(["access-token", "service-principal"]).optional(),
    /** service-principal only: application (client) id of the principal that holds Azure Connected Machine Onboarding. */
    servicePrincipalId: guid().optional(),
  }).optional(),
  grants: strictObject({
    /** Storage Blob Data Contributor on each container (names from keyless:storage.containers), limited by a condition to the server's own `<machine-name>/` path. */
    blobContainers: uniqueList(containerName, "container names").default([]),
    keyVault: oneOf(["none", "secrets-user", "secrets-and-certificates-user"]).default("secrets-user"),
    /** secrets (default): one grant per secret (the probe secret and keyVaultSecrets); vault: the whole vault, only when asked for. */
    keyVaultScope: oneOf(["secrets", "vault"]).default("secrets"),
    /** Names of existing secrets every Arc server may read (secret scope), besides the probe secret. */
    keyVaultSecrets: uniqueList(secretName, "secret names").default([]),
  }).default({ blobContainers: [], keyVault: "secrets-user", keyVaultScope: "secrets", keyVaultSecrets: [] }),
});

/**
 * Why a tag name or value cannot go through `azcmagent connect --tags`, or undefined. The syntax is
 * a comma-delimited list of TagName=TagValue, single quotes around a name or value with a space
 * (azure-docs azure-arc/servers/azcmagent-connect.md, `--tags`): a comma, an equals sign or a quote
 * inside would be read as syntax, and control characters have no place in a tag or in the JSON
 * config file the value travels in. Refused with a message rather than silently altered.
 */
export function agentTagProblem(s: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(s)) return "a control character";
  const m = /[,='"]/.exec(s);
  return m ? `the character ${m[0]}` : undefined;
}

/** The onboarding method a validated keyless:arc uses. */
export function onboardingMethod(a: Pick<ArcConfig, "onboarding">): "access-token" | "service-principal" {
  return a.onboarding?.method ?? (a.onboarding?.servicePrincipalId !== undefined ? "service-principal" : "access-token");
}

/** Secret-only: `pulumi config set --secret --path 'keyless:arcSecrets.servicePrincipalSecret' ...`. */
export const arcSecrets = strictObject({
  servicePrincipalSecret: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).optional(),
  /** OpenSSH private key per server name (onboard: ssh servers). */
  sshPrivateKeys: z.record(z.string(), z.string({ error: "must be a string" }), { error: "must be a map of server names to private keys" }).default({}),
});

export type ArcConfig = z.output<typeof arc>;
export type ArcServerConfig = z.output<typeof arcServer>;
export type ArcSecrets = z.output<typeof arcSecrets>;

/** Cross-key checks of keyless:arc against keyless:storage, keyless:keyVault, keyless:tags and keyless:arcSecrets. */
export function checkArc(
  cfg: { arc?: ArcConfig; arcSecrets?: ArcSecrets; storage: { containers: readonly string[] }; keyVault: { publicNetworkAccess: string }; tags?: Readonly<Record<string, string>> },
  ctx: z.core.$RefinementCtx,
): void {
  const a = cfg.arc;
  if (!a) return;
  const seen = new Set<string>();
  a.servers.forEach((s, i) => {
    // A bad or duplicate name already has its message; do not pile a missing-key one on top.
    const nameOk = arcMachineName.safeParse(s.name).success && !seen.has(s.name.toLowerCase());
    seen.add(s.name.toLowerCase());
    if (s.onboard === "ssh" && !s.ssh) {
      ctx.addIssue({ code: "custom", path: ["arc", "servers", i, "onboard"], input: s.onboard, message: "needs ssh: { host, user, port } on the same server (the stack connects the agent over SSH)" });
    }
    if (s.os === "windows" && s.users !== undefined) {
      ctx.addIssue({ code: "custom", path: ["arc", "servers", i, "users"], input: s.users, message: "is for Linux only (the himds group); on Windows grant the local Administrators or Hybrid agent extension applications group yourself" });
    }
    if (s.onboard === "existing" && !s.resourceGroup) {
      ctx.addIssue({ code: "custom", path: ["arc", "servers", i, "onboard"], input: s.onboard, message: "needs resourceGroup: the group the machine was onboarded into (the stack adopts it there and never deletes it)" });
    }
    if (s.onboard === "ssh" && s.resourceGroup) {
      ctx.addIssue({ code: "custom", path: ["arc", "servers", i, "resourceGroup"], input: s.resourceGroup, message: "is only for onboard: existing; ssh servers join the stack's Arc resource group" });
    }
    if (s.onboard === "ssh" && s.ssh && nameOk && !cfg.arcSecrets?.sshPrivateKeys[s.name]) {
      ctx.addIssue({ code: "custom", path: ["arcSecrets", "sshPrivateKeys", s.name], message: `is required for onboard: ssh server ${s.name} (pulumi config set --secret --path 'keyless:arcSecrets.sshPrivateKeys.${s.name}' < key)` });
    }
  });
  // A key for a server that is not onboarded over SSH is a typo or a leftover: either way a private
  // key the stack would carry for nothing. The value is never shown.
  const sshServers = a.servers.filter((s) => s.onboard === "ssh").map((s) => s.name);
  for (const name of Object.keys(cfg.arcSecrets?.sshPrivateKeys ?? {}).sort()) {
    if (!sshServers.includes(name)) {
      ctx.addIssue({ code: "custom", path: ["arcSecrets", "sshPrivateKeys", name], message: `is for no onboard: ssh server in keyless:arc.servers (${sshServers.join(", ") || "none"}); remove it (pulumi config rm --path 'keyless:arcSecrets.sshPrivateKeys.${name}')` });
    }
  }
  const method = onboardingMethod(a);
  const anySsh = sshServers.length > 0;
  const spSecret = cfg.arcSecrets?.servicePrincipalSecret !== undefined;
  if (method === "access-token") {
    if (a.onboarding?.servicePrincipalId !== undefined) {
      ctx.addIssue({ code: "custom", path: ["arc", "onboarding", "servicePrincipalId"], input: a.onboarding.servicePrincipalId, message: "is for method: service-principal only; with method: access-token the identity running `pulumi up` onboards" });
    }
    if (spSecret) {
      ctx.addIssue({ code: "custom", path: ["arcSecrets", "servicePrincipalSecret"], message: "must not be set with keyless:arc.onboarding.method: access-token (a long-lived secret nothing uses); remove it (pulumi config rm --path 'keyless:arcSecrets.servicePrincipalSecret') or set method: service-principal" });
    }
  } else if (anySsh) {
    if (a.onboarding?.servicePrincipalId === undefined) {
      ctx.addIssue({ code: "custom", path: ["arc", "onboarding", "servicePrincipalId"], message: `is required with method: service-principal when a server has onboard: ssh (${sshServers[0]}): the application id azcmagent connects with` });
    }
    if (!spSecret) {
      ctx.addIssue({ code: "custom", path: ["arcSecrets", "servicePrincipalSecret"], message: "is required with method: service-principal when a server has onboard: ssh (pulumi config set --secret --path 'keyless:arcSecrets.servicePrincipalSecret' ...)" });
    }
  }
  if (anySsh) {
    for (const [key, value] of Object.entries(cfg.tags ?? {})) {
      const bad = agentTagProblem(key) ?? agentTagProblem(value);
      if (bad) ctx.addIssue({ code: "custom", path: ["tags", key], input: value, message: `cannot be passed to azcmagent connect --tags (${bad}; its syntax is Name=Value,Name='Value with spaces' and has no escape for these): rename or drop the tag while keyless:arc onboards servers` });
    }
  }
  if (a.grants.keyVault === "none" && a.grants.keyVaultSecrets.length > 0) {
    ctx.addIssue({ code: "custom", path: ["arc", "grants", "keyVaultSecrets"], input: a.grants.keyVaultSecrets, message: "needs keyless:arc.grants.keyVault other than none (the role the servers read them with)" });
  }
  if (a.grants.keyVault === "secrets-and-certificates-user" && a.grants.keyVaultScope !== "vault") {
    ctx.addIssue({ code: "custom", path: ["arc", "grants", "keyVault"], input: a.grants.keyVault, message: "grants certificates vault-wide: set keyless:arc.grants.keyVaultScope: vault to ask for that explicitly, or use secrets-user" });
  }
  // One message per bad key: a container list that is itself invalid already has its message.
  const storageInvalid = ctx.issues.some((issue) => issue.path?.[0] === "storage");
  if (!storageInvalid) a.grants.blobContainers.forEach((c, i) => {
    if (!cfg.storage.containers.includes(c)) {
      ctx.addIssue({ code: "custom", path: ["arc", "grants", "blobContainers", i], input: c, message: `must be one of keyless:storage.containers (${cfg.storage.containers.join(", ") || "none defined"})` });
    }
  });
  // With public access off, the vault answers only through a private endpoint, which this project
  // does not create (azure-docs key-vault/general/network-security.md). The Arc servers read it from
  // outside Azure, and destroy deletes the probe secret through the data plane from wherever
  // `pulumi destroy` runs (azure-native custom_keyvault.go): both would fail.
  if (a.grants.keyVault !== "none" && cfg.keyVault.publicNetworkAccess === "Disabled") {
    ctx.addIssue({
      code: "custom",
      path: ["keyVault", "publicNetworkAccess"],
      input: "Disabled",
      message: `cannot be used with keyless:arc.grants.keyVault ${JSON.stringify(a.grants.keyVault)}: the Arc servers read the vault from outside Azure, and destroy deletes the probe secret through the vault's data plane, neither of which works without a private endpoint (this stack creates none); keep "Enabled", or set keyless:arc.grants.keyVault: none`,
    });
  }
}
