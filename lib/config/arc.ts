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
  onboarding: strictObject({
    /** Application (client) id of the service principal that holds Azure Connected Machine Onboarding. */
    servicePrincipalId: guid(),
  }).optional(),
  grants: strictObject({
    /** Storage Blob Data Contributor on each container (names from keyless:storage.containers). */
    blobContainers: uniqueList(containerName, "container names").default([]),
    keyVault: oneOf(["none", "secrets-user", "secrets-and-certificates-user"]).default("secrets-user"),
  }).default({ blobContainers: [], keyVault: "secrets-user" }),
});

/** Secret-only: `pulumi config set --secret --path 'keyless:arcSecrets.servicePrincipalSecret' ...`. */
export const arcSecrets = strictObject({
  servicePrincipalSecret: z.string({ error: "must be a string" }).min(1, { error: "must not be empty" }).optional(),
  /** OpenSSH private key per server name (onboard: ssh servers). */
  sshPrivateKeys: z.record(z.string(), z.string({ error: "must be a string" }), { error: "must be a map of server names to private keys" }).default({}),
});

export type ArcConfig = z.output<typeof arc>;
export type ArcServerConfig = z.output<typeof arcServer>;
export type ArcSecrets = z.output<typeof arcSecrets>;

/** Cross-key checks of keyless:arc against keyless:storage and keyless:arcSecrets. */
export function checkArc(
  cfg: { arc?: ArcConfig; arcSecrets?: ArcSecrets; storage: { containers: readonly string[] } },
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
    if (s.onboard === "ssh" && s.ssh) {
      if (!a.onboarding) {
        ctx.addIssue({ code: "custom", path: ["arc", "onboarding"], message: `is required when a server has onboard: ssh (${s.name}): the service principal azcmagent connects with, { servicePrincipalId }` });
      }
      if (nameOk && !cfg.arcSecrets?.sshPrivateKeys[s.name]) {
        ctx.addIssue({ code: "custom", path: ["arcSecrets", "sshPrivateKeys", s.name], message: `is required for onboard: ssh server ${s.name} (pulumi config set --secret --path 'keyless:arcSecrets.sshPrivateKeys.${s.name}' < key)` });
      }
    }
  });
  if (a.servers.some((s) => s.onboard === "ssh") && !cfg.arcSecrets?.servicePrincipalSecret) {
    ctx.addIssue({ code: "custom", path: ["arcSecrets", "servicePrincipalSecret"], message: "is required when a server has onboard: ssh (pulumi config set --secret --path 'keyless:arcSecrets.servicePrincipalSecret' ...)" });
  }
  a.grants.blobContainers.forEach((c, i) => {
    if (!cfg.storage.containers.includes(c)) {
      ctx.addIssue({ code: "custom", path: ["arc", "grants", "blobContainers", i], input: c, message: `must be one of keyless:storage.containers (${cfg.storage.containers.join(", ") || "none defined"})` });
    }
  });
}
