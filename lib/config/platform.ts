import { z } from "zod";
import { bool, guid, intRange, oneOf, pattern, strictObject, uniqueList } from "./rules";

// The foundation's keys: keyless:workload, environment, tags, registerProviders, production,
// storage, keyVault, registry. The names are a contract (README, users' stack files).

/** Tag keys the program sets itself; a user tag may not override them. */
export const reservedTagKeys = ["workload", "environment", "managed-by"] as const;

// Azure tags: names up to 512 characters (128 on storage accounts, the strictest of the types we
// tag), values up to 256, and names may not contain < > % & \ ? /
// (azure-docs azure-resource-manager/management/tag-resources.md, "Limitations").
const tagKey = /^[^<>%&\\?/]{1,128}$/;

export const workload = pattern(/^[a-z0-9]{2,10}$/, "2-10 lowercase letters or digits");
export const environment = pattern(/^[a-z0-9]{2,8}$/, "2-8 lowercase letters or digits");

export const tags = z
  .record(z.string(), z.string({ error: "must be a string" }).max(256, { error: "must be at most 256 characters (Azure's tag value limit)" }), {
    error: "must be a map of tag names to string values",
  })
  .superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      if (!tagKey.test(key)) {
        ctx.addIssue({ code: "custom", path: [key], input: key, message: "is not a legal tag name: 1-128 characters, none of < > % & \\ ? /" });
      } else if ((reservedTagKeys as readonly string[]).includes(key)) {
        ctx.addIssue({ code: "custom", path: [key], input: key, message: `is set by keyless itself; reserved tag names: ${reservedTagKeys.join(", ")}` });
      }
    }
  });

/** Blob container: 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit. */
export const containerName = pattern(/^(?=.{3,63}$)[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$/, "3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit");

export const storage = strictObject({
  /** Replication: LRS for dev, ZRS where the region has zones and the data matters. */
  sku: oneOf(["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_GZRS"]).default("Standard_LRS"),
  /** Private blob containers. */
  containers: uniqueList(containerName, "container names").default([]),
  /** Days a deleted blob or container can be restored (1-365). */
  deleteRetentionDays: intRange(1, 365).default(7),
});

export const keyVault = strictObject({
  /** Irreversible once on; Azure rejects `false` on a vault that has it. */
  purgeProtection: bool().default(false),
  /** Soft delete is always on; this is how long a deleted vault/secret stays recoverable. */
  softDeleteRetentionDays: intRange(7, 90).default(90),
  /** Whether the vault's public endpoint answers (firewall rules are out of scope); Disabled needs keyless:arc.grants.keyVault none, since the Arc servers read it from outside Azure. */
  publicNetworkAccess: oneOf(["Enabled", "Disabled"]).default("Enabled"),
  /**
   * ARM's createMode. `recover` brings back a soft-deleted vault of the same name (a destroyed stack's
   * vault keeps its name for softDeleteRetentionDays) instead of failing with VaultAlreadyExists; set it
   * for the one `pulumi up` that re-creates the stack, then remove it (docs/operations.md, "Teardown").
   */
  createMode: oneOf(["default", "recover"]).default("default"),
});

export const registry = strictObject({
  sku: oneOf(["Basic", "Standard", "Premium"]).default("Basic"),
});

/** The keys of this section and their schemas, merged into the root schema by ./index.ts. */
export const platformShape = {
  workload,
  environment: environment.optional(),
  tags: tags.default({}),
  registerProviders: bool().default(true),
  production: bool().default(false),
  storage: storage.default({ sku: "Standard_LRS", containers: [], deleteRetentionDays: 7 }),
  keyVault: keyVault.default({ purgeProtection: false, softDeleteRetentionDays: 90, publicNetworkAccess: "Enabled", createMode: "default" }),
  registry: registry.default({ sku: "Basic" }),
  /**
   * What the identity running `pulumi up` is: ServicePrincipal (the workflows' OIDC identity, the
   * default) or User (`az login`). The stack grants that identity roles (AKS RBAC Cluster Admin, Key
   * Vault Secrets Officer for the Arc probe secret), and ARM refuses an assignment whose principalType
   * does not match the principal (azure-docs role-based-access-control/role-assignments-template.md).
   */
  deployerPrincipalType: oneOf(["User", "ServicePrincipal"]).optional(),
  /**
   * The object id of the one identity that deploys this stack. When set, the deployer's own role
   * assignments and the gallery app's owner name it whoever runs pulumi (they are named by a UUID of
   * scope, principal and role, so following the signed-in identity would replace them); a preview by
   * another identity warns, and `pulumi up` by another identity stops before any Azure resource is created.
   */
  deployerObjectId: guid().optional(),
};
