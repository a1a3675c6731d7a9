import { describe, expect, it } from "vitest";
import { parseConfig } from "../lib/config";
import { builtInRoleNames } from "../lib/roles";
import { devSecretKeys, stackConfig, withConfig } from "./support/harness";

// keyless:gallery validation: every rule Azure (Lighthouse, Compute Gallery) would enforce later is
// refused here with one message that names the key, the value, the rule and the authorization.

const dev = stackConfig("dev").values;
const g = JSON.parse(dev["keyless:gallery"]);
const lh = g.sharing.lighthouse;
const jit = { principalId: lh.authorizations[0].principalId, principalIdDisplayName: "JIT admins" };
const jit2 = { principalId: lh.authorizations[1].principalId, principalIdDisplayName: "JIT operators" };

function errorsFor(changes: Record<string, unknown>): readonly string[] {
  const r = parseConfig({ values: withConfig(dev, changes), secretKeys: new Set(devSecretKeys(dev)), project: "keyless", stack: "dev" });
  return r.ok ? [] : r.errors;
}
const withGallery = (patch: Record<string, unknown>) => ({ "keyless:gallery": { ...g, ...patch } });
const withSharing = (patch: Record<string, unknown>) => withGallery({ sharing: { ...g.sharing, ...patch } });
const withLighthouse = (patch: Record<string, unknown>) => withSharing({ lighthouse: { ...lh, ...patch } });
const withSecondAuth = (patch: Record<string, unknown>) => withLighthouse({ authorizations: [lh.authorizations[0], { ...lh.authorizations[1], ...patch }] });
const auth1 = 'keyless:gallery.sharing.lighthouse.authorizations[1]';
const refused = '(authorization 1, "Image readers")';
const app = g.sharing.appRegistration;
const fic = app.federatedCredentials[0];
const withApp = (patch: Record<string, unknown>) => withSharing({ appRegistration: { ...app, ...patch } });
const withFic = (patch: Record<string, unknown>) => withApp({ federatedCredentials: [{ ...fic, ...patch }] });
const appKey = "keyless:gallery.sharing.appRegistration";
const keylessOnly = "a gallery delegation only reads images, so keyless delegates only Reader, Compute Gallery Image Reader, Managed Services Registration assignment Delete Role";

describe("keyless:gallery accepted", () => {
  it("reads the dev stack's gallery with its defaults", () => {
    const r = parseConfig({ values: dev, secretKeys: new Set(devSecretKeys(dev)), project: "keyless", stack: "dev" });
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.config.gallery?.images.map((i) => i.name)).toEqual(["ubuntu-golden", "windows-golden"]);
    expect(r.config.gallery?.sharing.lighthouse).toMatchObject({ eligibleAuthorizations: [], allowRemovalByManagingTenant: true });
  });

  it("accepts the reading roles, the delete role, and JIT authorizations with them", () => {
    expect(errorsFor(withSecondAuth({ role: "Reader" }))).toEqual([]);
    expect(errorsFor(withSecondAuth({ role: "Managed Services Registration assignment Delete Role" }))).toEqual([]);
    expect(errorsFor(withLighthouse({ eligibleAuthorizations: [{ ...jit, role: "Compute Gallery Image Reader", maximumActivationDuration: "PT1H30M" }] }))).toEqual([]);
    // One role, one access policy (the default PT8H/Azure written out or not); another role may differ.
    expect(
      errorsFor(
        withLighthouse({
          eligibleAuthorizations: [
            { ...jit, role: "Reader" },
            { ...jit2, role: "Reader", maximumActivationDuration: "PT8H", multiFactorAuth: "Azure" },
            { ...jit2, role: "Compute Gallery Image Reader", maximumActivationDuration: "PT1H", multiFactorAuth: "None" },
          ],
        }),
      ),
    ).toEqual([]);
  });

  it("reads the app registration with its default audience", () => {
    const r = parseConfig({ values: dev, secretKeys: new Set(devSecretKeys(dev)), project: "keyless", stack: "dev" });
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.config.gallery?.sharing.appRegistration).toEqual({
      displayName: "Contoso image consumers",
      federatedCredentials: [{ name: "fabrikam-ci", issuer: "https://token.actions.githubusercontent.com", subject: "repo:fabrikam/infra:environment:prod", audiences: ["api://AzureADTokenExchange"] }],
    });
  });

  it("accepts 20 credentials, a managed identity of the stack's own tenant, and other OIDC issuers", () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ name: `ci-${i}`, issuer: fic.issuer, subject: `repo:fabrikam/infra:environment:e${i}` }));
    expect(errorsFor(withApp({ federatedCredentials: many }))).toEqual([]);
    const own = "77777777-7777-4777-8777-777777777777";
    expect(errorsFor({ "azure-native:tenantId": own, ...withFic({ issuer: `https://login.microsoftonline.com/${own}/v2.0`, subject: "22222222-2222-4222-8222-222222222222" }) })).toEqual([]);
    expect(errorsFor(withFic({ issuer: "https://japaneast.oic.prod-aks.azure.com/11111111-1111-4111-8111-111111111111/22222222-2222-4222-8222-222222222222/", subject: "system:serviceaccount:ci:deployer" }))).toEqual([]);
  });
});

describe("keyless:gallery refused, one message each", () => {
  it.each<[string, Record<string, unknown>, string | string[]]>([
    ["Owner", withSecondAuth({ role: "Owner" }), `${auth1}.role: "Owner" is refused by Azure Lighthouse ${refused}: Owner cannot be delegated through Azure Lighthouse`],
    [
      "a role with DataActions",
      withSecondAuth({ role: "Storage Blob Data Reader" }),
      `${auth1}.role: "Storage Blob Data Reader" is refused by Azure Lighthouse ${refused}: Storage Blob Data Reader has DataActions, which Azure Lighthouse does not support`,
    ],
    [
      "Key Vault data role",
      withSecondAuth({ role: "Key Vault Secrets User" }),
      `${auth1}.role: "Key Vault Secrets User" is refused by Azure Lighthouse ${refused}: Key Vault Secrets User has DataActions, which Azure Lighthouse does not support`,
    ],
    [
      "User Access Administrator without delegatedRoles",
      withSecondAuth({ role: "User Access Administrator" }),
      `${auth1}.role: "User Access Administrator" is refused by Azure Lighthouse ${refused}: User Access Administrator is only allowed with delegatedRoles (the roles it may assign to managed identities)`,
    ],
    ["Contributor (Lighthouse allows it, keyless does not)", withSecondAuth({ role: "Contributor" }), `${auth1}.role: "Contributor" is refused by keyless ${refused}: ${keylessOnly}`],
    [
      "User Access Administrator with delegatedRoles (Lighthouse allows it, keyless does not)",
      withSecondAuth({ role: "User Access Administrator", delegatedRoles: ["Virtual Machine Contributor"] }),
      `${auth1}.role: "User Access Administrator" is refused by keyless ${refused}: ${keylessOnly}`,
    ],
    ["Virtual Machine Contributor", withSecondAuth({ role: "Virtual Machine Contributor" }), `${auth1}.role: "Virtual Machine Contributor" is refused by keyless ${refused}: ${keylessOnly}`],
    [
      "JIT Contributor",
      withLighthouse({ eligibleAuthorizations: [{ ...jit, role: "Contributor" }] }),
      `keyless:gallery.sharing.lighthouse.eligibleAuthorizations[0].role: "Contributor" is refused by keyless (authorization 0, "JIT admins"): ${keylessOnly}`,
    ],
    [
      "delegating Owner (two wrong values, one message each)",
      withSecondAuth({ role: "User Access Administrator", delegatedRoles: ["Owner"] }),
      [`${auth1}.role: "User Access Administrator" is refused by keyless ${refused}: ${keylessOnly}`, `${auth1}.delegatedRoles[0]: "Owner" is refused by Azure Lighthouse ${refused}: Owner cannot be delegated through Azure Lighthouse`],
    ],
    [
      "delegating itself",
      withSecondAuth({ role: "User Access Administrator", delegatedRoles: ["User Access Administrator"] }),
      [
        `${auth1}.role: "User Access Administrator" is refused by keyless ${refused}: ${keylessOnly}`,
        `${auth1}.delegatedRoles[0]: "User Access Administrator" is refused by Azure Lighthouse ${refused}: User Access Administrator cannot delegate itself`,
      ],
    ],
    ["delegatedRoles on another role", withSecondAuth({ delegatedRoles: ["Reader"] }), `${auth1}.delegatedRoles: ["Reader"] is only allowed with role User Access Administrator ${refused}`],
    ["unknown role", withSecondAuth({ role: "Readr" }), `${auth1}.role: "Readr" must be a built-in role name: ${builtInRoleNames.join(", ")}`],
    ["malformed principal", withSecondAuth({ principalId: "nope" }), `${auth1}.principalId: "nope" must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`],
    ["malformed tenant", withLighthouse({ managedByTenantId: "1111-2222" }), 'keyless:gallery.sharing.lighthouse.managedByTenantId: "1111-2222" must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)'],
    [
      "the stack's own tenant",
      { "azure-native:tenantId": lh.managedByTenantId.toUpperCase() },
      `keyless:gallery.sharing.lighthouse.managedByTenantId: "${lh.managedByTenantId}" must be another tenant than the stack's own (azure-native:tenantId); Lighthouse delegates to a managing tenant, use sharing.rbac inside one tenant`,
    ],
    ["no authorization", withLighthouse({ authorizations: [] }), "keyless:gallery.sharing.lighthouse.authorizations: [] must list at least one authorization"],
    [
      "JIT User Access Administrator",
      withLighthouse({ eligibleAuthorizations: [{ ...jit, role: "User Access Administrator" }] }),
      'keyless:gallery.sharing.lighthouse.eligibleAuthorizations[0].role: "User Access Administrator" is refused by Azure Lighthouse (authorization 0, "JIT admins"): User Access Administrator cannot be an eligible (just-in-time) authorization',
    ],
    [
      "JIT Owner",
      withLighthouse({ eligibleAuthorizations: [{ ...jit, role: "Owner" }] }),
      'keyless:gallery.sharing.lighthouse.eligibleAuthorizations[0].role: "Owner" is refused by Azure Lighthouse (authorization 0, "JIT admins"): Owner cannot be delegated through Azure Lighthouse',
    ],
    [
      "JIT duration",
      withLighthouse({ eligibleAuthorizations: [{ ...jit, role: "Reader", maximumActivationDuration: "PT9H" }] }),
      'keyless:gallery.sharing.lighthouse.eligibleAuthorizations[0].maximumActivationDuration: "PT9H" must be an ISO 8601 duration from PT30M to PT8H, such as PT4H or PT1H30M',
    ],
    [
      "JIT same role, another duration",
      withLighthouse({ eligibleAuthorizations: [{ ...jit, role: "Reader" }, { ...jit2, role: "Reader", maximumActivationDuration: "PT4H" }] }),
      'keyless:gallery.sharing.lighthouse.eligibleAuthorizations[1].maximumActivationDuration: "PT4H" is refused by Azure Lighthouse (authorization 1, "JIT operators"): eligible authorizations with the same role must have the same access policy, and authorization 0 ("JIT admins") has Reader with maximumActivationDuration "PT8H"',
    ],
    [
      "JIT same role, MFA on one only (two values, one message each)",
      withLighthouse({
        eligibleAuthorizations: [
          { ...jit, role: "Compute Gallery Image Reader", maximumActivationDuration: "PT1H" },
          { ...jit2, role: "Reader" },
          { ...jit2, principalIdDisplayName: "JIT auditors", role: "Compute Gallery Image Reader", maximumActivationDuration: "PT2H", multiFactorAuth: "None" },
        ],
      }),
      [
        'keyless:gallery.sharing.lighthouse.eligibleAuthorizations[2].maximumActivationDuration: "PT2H" is refused by Azure Lighthouse (authorization 2, "JIT auditors"): eligible authorizations with the same role must have the same access policy, and authorization 0 ("JIT admins") has Compute Gallery Image Reader with maximumActivationDuration "PT1H"',
        'keyless:gallery.sharing.lighthouse.eligibleAuthorizations[2].multiFactorAuth: "None" is refused by Azure Lighthouse (authorization 2, "JIT auditors"): eligible authorizations with the same role must have the same access policy, and authorization 0 ("JIT admins") has Compute Gallery Image Reader with multiFactorAuth "Azure"',
      ],
    ],
    ["image name", withGallery({ images: [{ ...g.images[0], name: "-bad" }] }), 'keyless:gallery.images[0].name: "-bad" must be 1-80 letters, digits, underscores, hyphens and periods, starting and ending with a letter or digit'],
    ["image name too long", withGallery({ images: [{ ...g.images[0], name: "a".repeat(81) }] }), `keyless:gallery.images[0].name: "${"a".repeat(81)}" must be 1-80 letters, digits, underscores, hyphens and periods, starting and ending with a letter or digit`],
    [
      "duplicate image name (case-insensitive)",
      withGallery({ images: [g.images[0], { ...g.images[1], name: "Ubuntu-Golden" }] }),
      `keyless:gallery.images[1]: ${JSON.stringify({ ...g.images[1], name: "Ubuntu-Golden" })} is listed twice; image names must be unique`,
    ],
    ["no image", withGallery({ images: [] }), "keyless:gallery.images: [] must list at least one image"],
    ["hyperVGeneration", withGallery({ images: [{ ...g.images[0], hyperVGeneration: "V3" }] }), 'keyless:gallery.images[0].hyperVGeneration: "V3" must be one of V1 | V2'],
    ["osType", withGallery({ images: [{ ...g.images[0], osType: "Mac" }] }), 'keyless:gallery.images[0].osType: "Mac" must be one of Linux | Windows'],
    ["sku", withGallery({ images: [{ ...g.images[0], sku: "ubuntu 24" }] }), 'keyless:gallery.images[0].sku: "ubuntu 24" must be 1-128 letters, digits, hyphens, periods and underscores, starting and ending with a letter or digit'],
    ["publisher", withGallery({ images: [{ ...g.images[0], publisher: "con/toso" }] }), 'keyless:gallery.images[0].publisher: "con/toso" must be 1-128 letters, digits, hyphens, periods and underscores, starting and ending with a letter or digit'],
    [
      "source id",
      withGallery({ images: [{ ...g.images[0], sourceImageId: "/subscriptions/x/images/y" }] }),
      'keyless:gallery.images[0].sourceImageId: "/subscriptions/x/images/y" must be the ARM id of a managed image or a VM (/subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Compute/images|virtualMachines/<name>)',
    ],
    ["RBAC role beyond reading", withSharing({ rbac: [{ ...g.sharing.rbac[0], role: "Contributor" }] }), 'keyless:gallery.sharing.rbac[0].role: "Contributor" must be one of Compute Gallery Image Reader | Reader'],
    ["RBAC principal type", withSharing({ rbac: [{ ...g.sharing.rbac[0], principalType: "App" }] }), 'keyless:gallery.sharing.rbac[0].principalType: "App" must be one of ServicePrincipal | Group | User | ForeignGroup'],
    ["RBAC duplicate", withSharing({ rbac: [g.sharing.rbac[0], g.sharing.rbac[0]] }), `keyless:gallery.sharing.rbac[1]: ${JSON.stringify(g.sharing.rbac[0])} is listed twice; each principal and role must be unique`],
    ["direct with nobody", withSharing({ direct: {} }), "keyless:gallery.sharing.direct: {} must list at least one tenant or subscription"],
    ["direct tenant id", withSharing({ direct: { tenants: ["x"] } }), 'keyless:gallery.sharing.direct.tenants[0]: "x" must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)'],
    [
      "direct in a government cloud",
      { "azure-native:location": "usgovvirginia", ...withSharing({ direct: { tenants: [lh.managedByTenantId] } }) },
      `keyless:gallery.sharing.direct: {"tenants":["${lh.managedByTenantId}"],"subscriptions":[]} is not available in government clouds (azure-native:location "usgovvirginia"); use sharing.rbac or sharing.lighthouse`,
    ],
    ["unknown sharing mode", withSharing({ lighthous: {} }), "keyless:gallery.sharing.lighthous: {} is not a known key"],
    // The app registration (docs/gallery.md): Entra's rules for federated identity credentials.
    ["app display name", withApp({ displayName: " padded" }), `${appKey}.displayName: " padded" must be 1-256 characters without leading or trailing spaces`],
    ["app without credentials", withApp({ federatedCredentials: [] }), `${appKey}.federatedCredentials: [] must list at least one federated credential (it is the only way to sign in as the app)`],
    [
      "21 credentials",
      withApp({ federatedCredentials: Array.from({ length: 21 }, (_, i) => ({ ...fic, name: `ci-${i}`, subject: `s${i}` })) }),
      `${appKey}.federatedCredentials: ${JSON.stringify(Array.from({ length: 21 }, (_, i) => ({ ...fic, name: `ci-${i}`, subject: `s${i}` })))} must list at most 20 federated credentials (Entra's limit per application)`,
    ],
    ["credential name too short", withFic({ name: "ci" }), `${appKey}.federatedCredentials[0].name: "ci" must be 3-120 letters, digits, hyphens and underscores, starting with a letter or digit`],
    ["credential name with a dot", withFic({ name: "fabrikam.ci" }), `${appKey}.federatedCredentials[0].name: "fabrikam.ci" must be 3-120 letters, digits, hyphens and underscores, starting with a letter or digit`],
    ["credential name starting with a hyphen", withFic({ name: "-ci-prod" }), `${appKey}.federatedCredentials[0].name: "-ci-prod" must be 3-120 letters, digits, hyphens and underscores, starting with a letter or digit`],
    ["credential name too long", withFic({ name: "a".repeat(121) }), `${appKey}.federatedCredentials[0].name: "${"a".repeat(121)}" must be 3-120 letters, digits, hyphens and underscores, starting with a letter or digit`],
    [
      "duplicate credential name (case-insensitive)",
      withApp({ federatedCredentials: [fic, { ...fic, name: "Fabrikam-CI", subject: "repo:fabrikam/infra:pull_request" }] }),
      `${appKey}.federatedCredentials[1].name: "Fabrikam-CI" is listed twice; federated credential names must be unique in the app`,
    ],
    [
      "duplicate issuer and subject",
      withApp({ federatedCredentials: [fic, { ...fic, name: "fabrikam-ci-2" }] }),
      `${appKey}.federatedCredentials[1].subject: "repo:fabrikam/infra:environment:prod" is listed twice with the same issuer; issuer and subject must be unique in the app`,
    ],
    [
      "http issuer",
      withFic({ issuer: "http://token.actions.githubusercontent.com" }),
      `${appKey}.federatedCredentials[0].issuer: "http://token.actions.githubusercontent.com" must be an https URL of at most 600 characters without query, fragment, credentials, spaces or wildcards (the exact issuer claim of the external token)`,
    ],
    [
      "issuer that is not a URL",
      withFic({ issuer: "token.actions.githubusercontent.com" }),
      `${appKey}.federatedCredentials[0].issuer: "token.actions.githubusercontent.com" must be an https URL of at most 600 characters without query, fragment, credentials, spaces or wildcards (the exact issuer claim of the external token)`,
    ],
    [
      "issuer with a query",
      withFic({ issuer: "https://issuer.example.com/?tenant=1" }),
      `${appKey}.federatedCredentials[0].issuer: "https://issuer.example.com/?tenant=1" must be an https URL of at most 600 characters without query, fragment, credentials, spaces or wildcards (the exact issuer claim of the external token)`,
    ],
    ["issuer not a string", withFic({ issuer: 42 }), `${appKey}.federatedCredentials[0].issuer: 42 must be an https URL (the issuer claim of the external token)`],
    [
      "wildcard subject",
      withFic({ subject: "repo:fabrikam/*" }),
      `${appKey}.federatedCredentials[0].subject: "repo:fabrikam/*" must be 1-600 characters without leading or trailing spaces or wildcards (the exact sub claim of the external token)`,
    ],
    ["empty subject", withFic({ subject: "" }), `${appKey}.federatedCredentials[0].subject: "" must be 1-600 characters without leading or trailing spaces or wildcards (the exact sub claim of the external token)`],
    [
      "subject too long",
      withFic({ subject: "s".repeat(601) }),
      `${appKey}.federatedCredentials[0].subject: "${"s".repeat(601)}" must be 1-600 characters without leading or trailing spaces or wildcards (the exact sub claim of the external token)`,
    ],
    ["two audiences", withFic({ audiences: ["api://AzureADTokenExchange", "api://other"] }), `${appKey}.federatedCredentials[0].audiences: ["api://AzureADTokenExchange","api://other"] must list exactly one audience (Entra accepts a single value)`],
    ["no audience", withFic({ audiences: [] }), `${appKey}.federatedCredentials[0].audiences: [] must list exactly one audience (Entra accepts a single value)`],
    [
      "managed identity named by something else than its principal id",
      withFic({ issuer: "https://login.microsoftonline.com/77777777-7777-4777-8777-777777777777/v2.0", subject: "id-keyless-ci" }),
      `${appKey}.federatedCredentials[0].subject: "id-keyless-ci" must be the principal (object) id of a user-assigned managed identity when the issuer is Entra ID`,
    ],
    [
      "managed identity with another audience",
      withFic({ issuer: "https://login.microsoftonline.com/77777777-7777-4777-8777-777777777777/v2.0", subject: "22222222-2222-4222-8222-222222222222", audiences: ["api://custom"] }),
      `${appKey}.federatedCredentials[0].audiences: ["api://custom"] must be [api://AzureADTokenExchange] or [api://AzureADTokenExchangeUSGov] or [api://AzureADTokenExchangeChina] when the issuer is Entra ID`,
    ],
    [
      "managed identity of another tenant",
      { "azure-native:tenantId": "77777777-7777-4777-8777-777777777777", ...withFic({ issuer: "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0", subject: "22222222-2222-4222-8222-222222222222" }) },
      `${appKey}.federatedCredentials[0].issuer: "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0" must be this stack's tenant (azure-native:tenantId "77777777-7777-4777-8777-777777777777"); a managed identity can be a federated credential only of an app in its own tenant`,
    ],
    ["unknown credential key", withFic({ password: "x" }), `${appKey}.federatedCredentials[0].password: "x" is not a known key`],
    ["unknown app key", withApp({ clientSecret: "x" }), `${appKey}.clientSecret: "x" is not a known key`],
  ])("%s", (_, changes, message) => {
    expect(errorsFor(changes)).toEqual(Array.isArray(message) ? message : [message]);
  });

  it("caps direct sharing at the preview's 5 tenants and 30 subscriptions", () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `${String(i).padStart(8, "0")}-0000-4000-8000-000000000000`);
    expect(errorsFor(withSharing({ direct: { tenants: ids(5), subscriptions: ids(30) } }))).toEqual([]);
    expect(errorsFor(withSharing({ direct: { tenants: ids(6) } }))).toEqual([`keyless:gallery.sharing.direct.tenants: ${JSON.stringify(ids(6))} must list at most 5 tenants (direct shared gallery preview limit)`]);
    expect(errorsFor(withSharing({ direct: { subscriptions: ids(31) } }))).toEqual([
      `keyless:gallery.sharing.direct.subscriptions: ${JSON.stringify(ids(31))} must list at most 30 subscriptions (direct shared gallery preview limit)`,
    ]);
  });
});
