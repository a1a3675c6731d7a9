import { createHash } from "node:crypto";

// Deterministic, CAF-style names (Cloud Adoption Framework abbreviations: rg, st, kv, cr, id, aks,
// gal, vm, vnet, snet, nsg, nic, pip, ng). Rules per type: Microsoft Learn, "Naming rules and restrictions
// for Azure resources" (azure-docs azure-resource-manager/management/resource-name-rules.md).
// Config validation keeps workload to 2-10 and environment to 2-8 lowercase letters/digits, so every
// name below is legal at those limits (test/naming.test.ts checks them).

/** What every name is built from. */
export interface NameParts {
  /** 2-10 lowercase letters or digits. */
  readonly workload: string;
  /** 2-8 lowercase letters or digits. */
  readonly environment: string;
}

/** Length of the stable suffix added to globally unique names. */
export const uniqueSuffixLength = 4;

/**
 * A short stable suffix from the subscription and stack: the same stack in the same subscription
 * always gets the same names, two stacks (or two subscriptions) practically never collide.
 */
export function uniqueSuffix(seed: string): string {
  const digest = createHash("sha256").update(seed).digest();
  // base36 keeps it to lowercase letters and digits, legal for storage, Key Vault and ACR alike.
  return BigInt(`0x${digest.subarray(0, 8).toString("hex")}`).toString(36).padStart(uniqueSuffixLength, "0").slice(-uniqueSuffixLength);
}

/** Resource group for one concern: rg-<workload>-<env>-<concern> (1-90 chars). */
export function resourceGroupName(p: NameParts, concern: string): string {
  return `rg-${p.workload}-${p.environment}-${concern}`;
}

/** Names scoped to a resource group, hyphenated: <abbr>-<workload>-<env>[-<purpose>]. */
export function scopedName(abbr: string, p: NameParts, purpose?: string): string {
  return [abbr, p.workload, p.environment, purpose].filter((s) => s !== undefined && s !== "").join("-");
}

/** Storage account: 3-24 lowercase letters and digits, globally unique. */
export function storageAccountName(p: NameParts, suffix: string): string {
  return `st${p.workload}${p.environment}${suffix}`;
}

/** Key Vault: 3-24 letters, digits and hyphens, starts with a letter, globally unique. */
export function keyVaultName(p: NameParts, suffix: string): string {
  return `kv${p.workload}${p.environment}${suffix}`;
}

/** Container registry: 5-50 letters and digits, globally unique. */
export function containerRegistryName(p: NameParts, suffix: string): string {
  return `cr${p.workload}${p.environment}${suffix}`;
}

/** Compute gallery: letters, digits, periods and underscores (no hyphens), unique in the subscription. */
export function galleryName(p: NameParts): string {
  return `gal_${p.workload}_${p.environment}`;
}

/** The rules each globally unique name must meet, for the naming tests and for documentation. */
export const nameRules = {
  storageAccount: /^[a-z0-9]{3,24}$/,
  keyVault: /^(?=.{3,24}$)[a-zA-Z](?!.*--)[a-zA-Z0-9-]*[a-zA-Z0-9]$/,
  containerRegistry: /^[a-zA-Z0-9]{5,50}$/,
  resourceGroup: /^[-\w._()]{1,89}[-\w_()]$/,
  gallery: /^[a-zA-Z0-9][a-zA-Z0-9._]{0,78}[a-zA-Z0-9]$/,
} as const;

/**
 * A deterministic UUID (RFC 4122 layout, version 5 bits) from any strings. Role assignment names
 * must be GUIDs and (scope, principal, role) is unique in Azure, so deriving the name from exactly
 * those makes a re-run or a re-create reuse the name instead of failing with RoleAssignmentExists
 * (azure-docs role-based-access-control/troubleshooting.md; Bicep's guid(scope, principal, role)).
 */
export function deterministicUuid(...parts: string[]): string {
  const bytes = createHash("sha1").update(parts.join("\u0000")).digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Role assignment name: a UUID of (scope, principal, role definition GUID), case-folded as ARM compares them. */
export function roleAssignmentName(scope: string, principalId: string, roleGuid: string): string {
  return deterministicUuid(scope.toLowerCase(), principalId.toLowerCase(), roleGuid.toLowerCase());
}
