import { z } from "zod";
import { type BuiltInRoleName, builtInRoleNames, lighthouseGalleryRoles, rolesWithDataActions } from "../roles";
import { guid, guidPattern, oneOf, pattern, strictObject, uniqueList } from "./rules";

// keyless:gallery: a Compute Gallery, its image definitions, and how other tenants get at them
// (Azure Lighthouse, RBAC, direct sharing, a multi-tenant app registration). Everything Azure
// would reject is refused here, before any resource is registered. Sources for each rule are cited next to it; docs/gallery.md sums up.

// Image definition names (Microsoft.Compute/galleries/images): 1-80 alphanumerics, underscores,
// hyphens and periods, starting and ending with an alphanumeric
// (azure-docs azure-resource-manager/management/resource-name-rules.md, Microsoft.Compute).
const imageName = pattern(
  /^(?=.{1,80}$)[a-zA-Z0-9](?:[a-zA-Z0-9._-]*[a-zA-Z0-9])?$/,
  "1-80 letters, digits, underscores, hyphens and periods, starting and ending with a letter or digit",
);

// Publisher, offer and SKU of an image definition: up to 128 characters of letters, digits, hyphens,
// periods and underscores (azure-compute-docs virtual-machines/shared-image-galleries.md, "Image
// definitions"; the REST spec's GalleryImageIdentifier has no stricter pattern).
const identifierPart = pattern(/^(?=.{1,128}$)[a-zA-Z0-9](?:[a-zA-Z0-9._-]*[a-zA-Z0-9])?$/, "1-128 letters, digits, hyphens, periods and underscores, starting and ending with a letter or digit");

// A managed image or VM to publish as version 1.0.0 (storageProfile.source.id / .virtualMachineId).
const sourceImageId = pattern(
  /^\/subscriptions\/[0-9a-fA-F-]{36}\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/(images|virtualMachines)\/[^/]+$/i,
  "the ARM id of a managed image or a VM (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/images|virtualMachines/<name>)",
);

export const galleryImage = strictObject({
  /** Image definition name, unique in the gallery. */
  name: imageName,
  osType: oneOf(["Linux", "Windows"]),
  hyperVGeneration: oneOf(["V1", "V2"]).default("V2"),
  publisher: identifierPart,
  offer: identifierPart,
  sku: identifierPart,
  /** Optional: a managed image or VM published as version 1.0.0 of this definition. */
  sourceImageId: sourceImageId.optional(),
});

const roleName = z.enum(builtInRoleNames as [BuiltInRoleName, ...BuiltInRoleName[]], { error: `must be a built-in role name: ${builtInRoleNames.join(", ")}` });

// Lighthouse's display name is free text but required for every authorization in the portal.
const displayName = pattern(/^.{1,256}$/, "1-256 characters");

/**
 * Why Lighthouse refuses a role in an authorization, or undefined when it accepts it.
 * azure-docs lighthouse/concepts/tenants-users-roles.md, "Role support for Azure Lighthouse":
 * no Owner, no role with DataActions, no role with Microsoft.Authorization/* write except User
 * Access Administrator, and that one only to assign roles to managed identities
 * (delegatedRoleDefinitionIds required).
 */
export function lighthouseRefusal(role: BuiltInRoleName, hasDelegatedRoles: boolean): string | undefined {
  if (role === "Owner") return "Owner cannot be delegated through Azure Lighthouse";
  if (rolesWithDataActions.has(role)) return `${role} has DataActions, which Azure Lighthouse does not support`;
  if (role === "User Access Administrator" && !hasDelegatedRoles) {
    return "User Access Administrator is only allowed with delegatedRoles (the roles it may assign to managed identities)";
  }
  return undefined;
}

/**
 * Why keyless refuses a role Lighthouse itself would accept, or undefined when it is on the list
 * (lib/roles.ts lighthouseGalleryRoles). Contributor would let the managing tenant change or
 * delete the images; User Access Administrator (Lighthouse allows it only to assign roles to
 * managed identities) would let it hand out access, which keyless never grants.
 */
export function lighthouseGalleryRefusal(role: BuiltInRoleName): string | undefined {
  if (lighthouseGalleryRoles.includes(role)) return undefined;
  return `a gallery delegation only reads images, so keyless delegates only ${lighthouseGalleryRoles.join(", ")}`;
}

const delegatedRoles = z.array(roleName, { error: "must be a list of built-in role names" }).min(1, { error: "must name at least one role" });

const authorization = strictObject({
  /** Object id of a user, group or service principal in the managing tenant (a group is best). */
  principalId: guid(),
  /** Shown in the customer's portal under Service providers. */
  principalIdDisplayName: displayName,
  role: roleName,
  /** Only with User Access Administrator: the roles it may assign to managed identities. */
  delegatedRoles: delegatedRoles.optional(),
});

const eligibleAuthorization = strictObject({
  /**
   * Object id of a user or group in the managing tenant, never a service principal: "there's
   * currently no way for a service principal account to elevate its access" (azure-docs
   * lighthouse/how-to/create-eligible-authorizations.md, "User"). Only a GUID reaches the config,
   * so this is documented (docs/gallery.md), not checked.
   */
  principalId: guid(),
  principalIdDisplayName: displayName,
  role: roleName,
  /** How long an activation lasts, ISO 8601 (PT30M-PT8H; Lighthouse's default is PT8H). */
  maximumActivationDuration: pattern(/^PT([1-7]H|8H|([1-7]H)?([3-5][0-9])M)$/, "an ISO 8601 duration from PT30M to PT8H, such as PT4H or PT1H30M").default("PT8H"),
  /** Whether activation requires Azure AD multifactor authentication. */
  multiFactorAuth: oneOf(["Azure", "None"]).default("Azure"),
});

type Auth = { principalIdDisplayName: string; role: BuiltInRoleName; delegatedRoles?: BuiltInRoleName[] };

/** Lighthouse's role rules applied to a list of (eligible) authorizations; messages name the authorization. */
function refuseRoles(list: readonly Auth[], ctx: z.RefinementCtx, eligible: boolean) {
  list.forEach((a, i) => {
    const who = `(authorization ${i}, ${JSON.stringify(a.principalIdDisplayName)})`;
    // Eligible authorizations have no delegatedRoleDefinitionIds, so User Access Administrator never qualifies there.
    const why =
      eligible && a.role === "User Access Administrator"
        ? "User Access Administrator cannot be an eligible (just-in-time) authorization"
        : lighthouseRefusal(a.role, a.delegatedRoles !== undefined);
    if (why) ctx.addIssue({ code: "custom", path: [i, "role"], input: a.role, message: `is refused by Azure Lighthouse ${who}: ${why}` });
    // Azure's own limits first (one message per value); then keyless's narrower list.
    const ours = why ? undefined : lighthouseGalleryRefusal(a.role);
    if (ours) ctx.addIssue({ code: "custom", path: [i, "role"], input: a.role, message: `is refused by keyless ${who}: ${ours}` });
    if (a.delegatedRoles !== undefined && a.role !== "User Access Administrator") {
      ctx.addIssue({ code: "custom", path: [i, "delegatedRoles"], input: a.delegatedRoles, message: `is only allowed with role User Access Administrator ${who}` });
    }
    (a.delegatedRoles ?? []).forEach((d, j) => {
      // The delegated roles are assigned to managed identities; the same refusals apply, and UAA may not hand out UAA.
      const bad = d === "User Access Administrator" ? "User Access Administrator cannot delegate itself" : lighthouseRefusal(d, false);
      if (bad) ctx.addIssue({ code: "custom", path: [i, "delegatedRoles", j], input: d, message: `is refused by Azure Lighthouse ${who}: ${bad}` });
    });
  });
}

/**
 * "If you include multiple eligible authorizations that use the same role, each of the eligible
 * authorizations must have the same access policy settings" (create-eligible-authorizations.md,
 * "Role"): a later authorization with a role already listed must repeat the first one's
 * maximumActivationDuration and multiFactorAuth (keyless sets no approvers).
 */
function refuseMixedPolicies(list: readonly z.output<typeof eligibleAuthorization>[], ctx: z.RefinementCtx) {
  const first = new Map<BuiltInRoleName, number>();
  list.forEach((a, i) => {
    const j = first.get(a.role);
    if (j === undefined) {
      first.set(a.role, i);
      return;
    }
    const f = list[j];
    for (const key of ["maximumActivationDuration", "multiFactorAuth"] as const) {
      if (a[key] === f[key]) continue;
      ctx.addIssue({
        code: "custom",
        path: [i, key],
        input: a[key],
        message: `is refused by Azure Lighthouse (authorization ${i}, ${JSON.stringify(a.principalIdDisplayName)}): eligible authorizations with the same role must have the same access policy, and authorization ${j} (${JSON.stringify(f.principalIdDisplayName)}) has ${a.role} with ${key} ${JSON.stringify(f[key])}`,
      });
    }
  });
}

export const lighthouse = strictObject({
  /** Offer name shown on both sides (Service providers / My customers). */
  offerName: pattern(/^.{1,200}$/, "1-200 characters"),
  description: pattern(/^.{1,500}$/, "1-500 characters").optional(),
  /** The tenant that manages (uses) the gallery: never this stack's own tenant. */
  managedByTenantId: guid(),
  authorizations: z.array(authorization, { error: "must be a list of authorizations" }).min(1, { error: "must list at least one authorization" }).superRefine((l, ctx) => refuseRoles(l, ctx, false)),
  /** Just-in-time authorizations (Entra ID P2 in the managing tenant). */
  eligibleAuthorizations: z
    .array(eligibleAuthorization, { error: "must be a list of eligible authorizations" })
    .default([])
    .superRefine((l, ctx) => {
      refuseRoles(l, ctx, true);
      refuseMixedPolicies(l, ctx);
    }),
  /** Adds the Managed Services Registration assignment Delete Role for the first authorization's principal, so the managing tenant can remove the delegation too. */
  allowRemovalByManagingTenant: z.boolean({ error: "must be true or false" }).default(true),
});

const principalType = oneOf(["ServicePrincipal", "Group", "User", "ForeignGroup"]);

// RBAC sharing: read access on the gallery only. Roles beyond reading are refused: a consumer needs
// nothing else to create a VM from an image (azure-compute-docs virtual-machines/share-gallery.md).
const rbacRoles = ["Compute Gallery Image Reader", "Reader"] as const;

export const rbacGrant = strictObject({
  principalId: guid(),
  principalType,
  role: oneOf(rbacRoles).default("Compute Gallery Image Reader"),
});

// Direct sharing (preview): at most 30 subscriptions and 5 tenants
// (azure-compute-docs virtual-machines/share-gallery-direct.md, "Limitations").
export const directSharingLimits = { subscriptions: 30, tenants: 5 } as const;

export const direct = strictObject({
  tenants: uniqueList(guid(), "tenant ids", (v) => v.toLowerCase()).default([]).refine((l) => l.length <= directSharingLimits.tenants, {
    error: `must list at most ${directSharingLimits.tenants} tenants (direct shared gallery preview limit)`,
  }),
  subscriptions: uniqueList(guid(), "subscription ids", (v) => v.toLowerCase()).default([]).refine((l) => l.length <= directSharingLimits.subscriptions, {
    error: `must list at most ${directSharingLimits.subscriptions} subscriptions (direct shared gallery preview limit)`,
  }),
}).refine((d) => d.tenants.length + d.subscriptions.length > 0, { error: "must list at least one tenant or subscription" });

// App registration sharing: a multi-tenant application in this stack's tenant whose service
// principal reads the gallery, signed in to with federated identity credentials only (no password,
// no certificate). Rules for a federated identity credential, from Microsoft Graph's
// federatedIdentityCredential resource (learn.microsoft.com/graph/api/resources/federatedidentitycredential)
// and Entra's "Configure an application to trust a managed identity" / "Important considerations
// and restrictions for federated identity credentials" (learn.microsoft.com/entra/workload-id/):
// name 3-120 letters, digits, '-' and '_', starting with a letter or digit, unique in the app and
// immutable; issuer, subject and the single audience at most 600 characters each; issuer+subject
// unique in the app; no wildcards; at most 20 credentials per application.

/** At most 20 federated identity credentials per application (Graph: "Maximum of 20 objects"). */
export const maxFederatedCredentials = 20;

/** The audience Entra expects in the external token (global cloud). */
export const tokenExchangeAudience = "api://AzureADTokenExchange";

/** Audiences an Entra-issued (managed identity) token carries, by cloud. */
const entraAudiences = [tokenExchangeAudience, "api://AzureADTokenExchangeUSGov", "api://AzureADTokenExchangeChina"] as const;

/**
 * The tenant of an Entra ID issuer (a managed identity's token), or undefined for any other issuer.
 * Entra's v2.0 authority is https://login.microsoftonline.com/<tenant>/v2.0 (also the US Government
 * and China hosts); https://sts.windows.net/<tenant>/ is its v1.0 form.
 */
export function entraIssuerTenant(issuer: string): string | undefined {
  const m = /^https:\/\/(?:login\.microsoftonline\.(?:com|us)|login\.partner\.microsoftonline\.cn|sts\.windows\.net)\/([^/]+)(?:\/|$)/i.exec(issuer);
  return m ? m[1] : undefined;
}

const noWildcard = (v: string) => !v.includes("*");
const trimmed = (v: string) => v === v.trim();

/** An OIDC issuer: an https URL without query or fragment (OpenID Connect Discovery 1.0, section 3). */
const issuer = z
  .string({ error: "must be an https URL (the issuer claim of the external token)" })
  .refine(
    (v) => {
      if (v.length > 600 || !trimmed(v) || !noWildcard(v) || /\s/.test(v)) return false;
      try {
        const u = new URL(v);
        return u.protocol === "https:" && u.hostname !== "" && u.search === "" && u.hash === "" && u.username === "" && u.password === "";
      } catch {
        return false;
      }
    },
    { error: "must be an https URL of at most 600 characters without query, fragment, credentials, spaces or wildcards (the exact issuer claim of the external token)" },
  );

const subject = z
  .string({ error: "must be a string (the sub claim of the external token)" })
  .refine((v) => v.length >= 1 && v.length <= 600 && trimmed(v) && noWildcard(v), {
    error: "must be 1-600 characters without leading or trailing spaces or wildcards (the exact sub claim of the external token)",
  });

export const federatedCredential = strictObject({
  /** Unique in the app, immutable in Entra: a rename is a new credential. */
  name: pattern(/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$/, "3-120 letters, digits, hyphens and underscores, starting with a letter or digit"),
  /** The external token's iss claim, exactly (GitHub Actions: https://token.actions.githubusercontent.com). */
  issuer,
  /** The external token's sub claim, exactly (GitHub Actions: repo:<org>/<repo>:environment:<env>). */
  subject,
  /** Exactly one audience (Entra accepts a single value); api://AzureADTokenExchange unless the issuer is configured otherwise. */
  audiences: z
    .array(z.string({ error: "must be a string" }), { error: "must be a list of one audience" })
    .default([tokenExchangeAudience])
    .refine((l) => l.length === 1, { error: "must list exactly one audience (Entra accepts a single value)" })
    .refine((l) => l.every((a) => a.length >= 1 && a.length <= 600 && trimmed(a) && noWildcard(a)), { error: "must be 1-600 characters without spaces at either end or wildcards" }),
  /** Shown in the app's Certificates & secrets > Federated credentials. */
  description: pattern(/^[^\n]{1,600}$/, "1-600 characters on one line").optional(),
}).superRefine((c, ctx) => {
  // A managed identity as a federated credential: only a user-assigned identity, named by its
  // principal (object) id, with one of Entra's token-exchange audiences
  // (entra/workload-id/workload-identity-federation-config-app-trust-managed-identity).
  if (entraIssuerTenant(c.issuer) === undefined) return;
  if (!guidPattern.test(c.subject)) {
    ctx.addIssue({ code: "custom", path: ["subject"], input: c.subject, message: "must be the principal (object) id of a user-assigned managed identity when the issuer is Entra ID" });
  }
  if (c.audiences.length === 1 && !(entraAudiences as readonly string[]).includes(c.audiences[0])) {
    ctx.addIssue({ code: "custom", path: ["audiences"], input: c.audiences, message: `must be [${entraAudiences.join("] or [")}] when the issuer is Entra ID` });
  }
});

export const appRegistration = strictObject({
  /** The application's display name, shown to the consumer when they consent. */
  displayName: pattern(/^(?=.{1,256}$)\S(?:.*\S)?$/, "1-256 characters without leading or trailing spaces"),
  federatedCredentials: z
    .array(federatedCredential, { error: "must be a list of federated credentials" })
    .min(1, { error: "must list at least one federated credential (it is the only way to sign in as the app)" })
    .max(maxFederatedCredentials, { error: `must list at most ${maxFederatedCredentials} federated credentials (Entra's limit per application)` })
    .superRefine((items, ctx) => {
      const names = new Set<string>();
      const pairs = new Set<string>();
      items.forEach((c, i) => {
        const n = c.name.toLowerCase();
        if (names.has(n)) ctx.addIssue({ code: "custom", path: [i, "name"], input: c.name, message: "is listed twice; federated credential names must be unique in the app" });
        names.add(n);
        const pair = `${c.issuer}\n${c.subject}`;
        if (pairs.has(pair)) ctx.addIssue({ code: "custom", path: [i, "subject"], input: c.subject, message: "is listed twice with the same issuer; issuer and subject must be unique in the app" });
        pairs.add(pair);
      });
    }),
});

export const sharing = strictObject({
  lighthouse: lighthouse.optional(),
  rbac: z
    .array(rbacGrant, { error: "must be a list of principals" })
    .default([])
    .superRefine((items, ctx) => {
      const seen = new Set<string>();
      items.forEach((g, i) => {
        const k = `${g.principalId.toLowerCase()}/${g.role}`;
        if (seen.has(k)) ctx.addIssue({ code: "custom", path: [i], input: g, message: "is listed twice; each principal and role must be unique" });
        seen.add(k);
      });
    }),
  direct: direct.optional(),
  /** A multi-tenant app registration with federated credentials (docs/gallery.md). */
  appRegistration: appRegistration.optional(),
});

export const gallery = strictObject({
  images: uniqueList(galleryImage, "image names", (v) => v.name.toLowerCase()).refine((l) => l.length > 0, { error: "must list at least one image" }),
  sharing: sharing.default({ rbac: [] }),
});

export type GalleryConfig = z.output<typeof gallery>;
export type GalleryImageConfig = z.output<typeof galleryImage>;
export type LighthouseConfig = z.output<typeof lighthouse>;
export type AppRegistrationConfig = z.output<typeof appRegistration>;
export type FederatedCredentialConfig = z.output<typeof federatedCredential>;
