import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { graphPermissionWarning } from "../parts/gallery";
import { appRegistrationSteps } from "../lib/gallery-consumer";
import { roleAssignmentName } from "../lib/naming";
import { mockDeployerObjectId, mockSubscriptionId, mockTenantId } from "../tools/plan/mocks";
import { readStackConfig } from "../tools/plan/stack-file";
import { checkResources } from "../tools/plan/policy";
import type { Plan } from "../tools/plan/engine";
import { ofType, planProgram, planStack, resource, root, transitiveDependencies, withConfig } from "./support/harness";

// The multi-tenant app registration that shares the gallery without a secret: application,
// service principal, federated credentials and the gallery grant, as stacks/gallery-app.yaml plans them.

const stackFile = readStackConfig(join(root, "stacks/gallery-app.yaml"));
const rg = `/subscriptions/${mockSubscriptionId}/resourceGroups/rg-keyless-galapp-gallery`;
const galleryId = `${rg}/providers/Microsoft.Compute/galleries/gal_keyless_galapp`;
const versionId = `${galleryId}/images/ubuntu-golden/versions/1.0.0`;
const T = {
  app: "azuread:index/application:Application",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  fic: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  grant: "azure-native:authorization:RoleAssignment",
} as const;

let plan: Plan;
beforeAll(async () => {
  // azure-native:tenantId in the stack file is a placeholder; the mocks sign in to their own tenant.
  plan = await planProgram(withConfig(stackFile.values, { "azure-native:tenantId": mockTenantId }), { stack: "gallery-app" });
});

describe("the application and its service principal", () => {
  it("creates one multi-tenant application owned by the deployer, with no password", () => {
    const app = resource(plan, T.app, "gallery-app-app");
    expect(app.inputs).toEqual({
      displayName: "Contoso image consumers",
      signInAudience: "AzureADMultipleOrgs",
      owners: [mockDeployerObjectId],
      preventDuplicateNames: true,
      description: "Reads the Keyless image gallery from other tenants; signed in to with federated credentials only",
      // The one reply URL: where admin consent sends the browser (no implicit grant, no other platform).
      web: { redirectUris: ["https://www.microsoft.com/"] },
    });
  });

  it("creates the app's service principal in this tenant, owned by the deployer too", () => {
    const app = resource(plan, T.app, "gallery-app-app");
    const sp = resource(plan, T.sp, "gallery-app-sp");
    expect(sp.inputs).toEqual({ clientId: app.outputs.clientId, owners: [mockDeployerObjectId] });
    expect(sp.dependencies).toContain(app.urn);
  });

  it("uses an explicit azuread provider in the stack's tenant, for every Graph object", () => {
    const provider = resource(plan, "pulumi:providers:azuread", "azuread");
    expect(provider.inputs.tenantId).toBe(mockTenantId);
    for (const r of [...ofType(plan, T.app), ...ofType(plan, T.sp), ...ofType(plan, T.fic)]) expect(r.provider.startsWith(provider.urn)).toBe(true);
  });
});

describe("federated identity credentials instead of a secret", () => {
  it("trusts exactly the configured issuer, subject and audience, keyed by name", () => {
    const app = resource(plan, T.app, "gallery-app-app");
    const appId = app.outputs.id;
    expect(appId).toMatch(/^\/applications\/[0-9a-f-]{36}$/);
    // One credential: every credential of the app is the same identity with the same rights.
    expect(ofType(plan, T.fic).map((f) => f.name)).toEqual(["gallery-app-fic-fabrikam-ci"]);
    expect(resource(plan, T.fic, "gallery-app-fic-fabrikam-ci").inputs).toEqual({
      applicationId: appId,
      displayName: "fabrikam-ci",
      issuer: "https://token.actions.githubusercontent.com",
      subject: "repo:fabrikam/infra:environment:prod",
      audiences: ["api://AzureADTokenExchange"],
      description: "Fabrikam's infra repository, prod environment",
    });
  });

  it("creates the credentials one after another", async () => {
    const g = JSON.parse(stackFile.values["keyless:gallery"]);
    const ci = g.sharing.appRegistration.federatedCredentials[0];
    const staging = { name: "fabrikam-staging", issuer: ci.issuer, subject: "repo:fabrikam/infra:environment:staging" };
    const values = withConfig(stackFile.values, {
      "azure-native:tenantId": mockTenantId,
      "keyless:gallery": { ...g, sharing: { appRegistration: { ...g.sharing.appRegistration, federatedCredentials: [ci, staging] } } },
    });
    const two = await planProgram(values, { stack: "gallery-app" });
    const first = resource(two, T.fic, "gallery-app-fic-fabrikam-ci");
    const second = resource(two, T.fic, "gallery-app-fic-fabrikam-staging");
    expect(second.inputs).toEqual({ applicationId: resource(two, T.app, "gallery-app-app").outputs.id, displayName: "fabrikam-staging", issuer: ci.issuer, subject: staging.subject, audiences: ["api://AzureADTokenExchange"] });
    expect(second.dependencies).toContain(first.urn);
    expect(first.dependencies).not.toContain(second.urn);
  });

  it("creates no password or certificate of any kind, and the policy check passes", () => {
    expect(plan.resources.map((r) => r.type).filter((t) => /password|certificate/i.test(t))).toEqual([]);
    for (const r of ofType(plan, T.app)) expect(r.inputs.password).toBeUndefined();
    expect(checkResources(plan.resources, { production: false, config: {} })).toEqual([]);
  });

  it("the policy check refuses the same stack with a client secret added", () => {
    const secret = {
      urn: "urn:pulumi:gallery-app::keyless::azuread:index/applicationPassword:ApplicationPassword::gallery-app-secret",
      type: "azuread:index/applicationPassword:ApplicationPassword",
      name: "gallery-app-secret",
      protect: false,
      inputs: { applicationId: resource(plan, T.app, "gallery-app-app").outputs.id, displayName: "handed to the consumer" },
    };
    const app = resource(plan, T.app, "gallery-app-app");
    const inline = { ...app, inputs: { ...app.inputs, password: { displayName: "inline" } } };
    expect(checkResources([...plan.resources.filter((r) => r.urn !== app.urn), inline, secret], { production: false, config: {} })).toEqual([
      { rule: "keyless-entra-no-app-secrets", urn: app.urn, message: "password is set; keyless apps have no client secret (sign in with a federated identity credential)" },
      {
        rule: "keyless-entra-no-app-secrets",
        urn: secret.urn,
        message: "ApplicationPassword creates a long-lived credential; keyless apps have no client secret or certificate (sign in with a federated identity credential)",
      },
    ]);
  });
});

describe("the gallery grant", () => {
  it("gives the service principal Compute Gallery Image Reader on the gallery, and nothing else", () => {
    const sp = resource(plan, T.sp, "gallery-app-sp");
    const spId = String(sp.outputs.objectId);
    const grants = ofType(plan, T.grant);
    expect(grants.map((g) => g.name)).toEqual(["gallery-app-gallery-read"]);
    expect(grants[0].inputs).toEqual({
      roleAssignmentName: roleAssignmentName(galleryId, spId, "cf7c76d2-98a3-4358-a134-615aa78bf44d"),
      scope: galleryId,
      principalId: spId,
      principalType: "ServicePrincipal",
      roleDefinitionId: `/subscriptions/${mockSubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/cf7c76d2-98a3-4358-a134-615aa78bf44d`,
      description: "Read the Keyless image gallery (multi-tenant app)",
    });
    // Waits for the service principal (its object id) and the gallery (its scope).
    const deps = transitiveDependencies(plan, grants[0].urn);
    expect(deps.has(sp.urn)).toBe(true);
    expect(deps.has(resource(plan, "azure-native:compute:Gallery", "gallery-gallery").urn)).toBe(true);
  });
});

describe("what the plan says and outputs", () => {
  it("warns that the Graph permission cannot be checked offline, once", () => {
    expect(plan.warnings.filter((w) => w.includes("appRegistration"))).toEqual([graphPermissionWarning]);
    expect(graphPermissionWarning).toContain("Application.ReadWrite.OwnedBy");
  });

  it("outputs the app's ids and the consumer's commands in order", () => {
    const app = resource(plan, T.app, "gallery-app-app");
    const sp = resource(plan, T.sp, "gallery-app-sp");
    const clientId = String(app.outputs.clientId);
    const gallery = plan.outputs.gallery as Record<string, any>;
    expect(gallery.appRegistration).toEqual({ clientId, servicePrincipalObjectId: sp.outputs.objectId, tenantId: mockTenantId });
    expect(gallery.consumerSteps["ubuntu-golden"].appRegistration).toEqual([
      `https://login.microsoftonline.com/<your tenant id>/adminconsent?client_id=${clientId}&redirect_uri=https%3A%2F%2Fwww.microsoft.com%2F`,
      "az login --tenant <your tenant id>",
      `az role assignment create --assignee-object-id "$(az ad sp show --id ${clientId} --query id --output tsv)" --assignee-principal-type ServicePrincipal --role "Virtual Machine Contributor" --scope /subscriptions/<your subscription id>/resourceGroups/<your-rg>`,
      "az account clear",
      `az login --service-principal --username ${clientId} --tenant ${mockTenantId} --federated-token @<federated token file>`,
      `az login --service-principal --username ${clientId} --tenant <your tenant id> --federated-token @<federated token file>`,
      `az vm create --subscription <your subscription id> --resource-group <your-rg> --name <vm-name> --image ${versionId} --subnet <subnet id> --public-ip-address "" --nsg "" --admin-username azureuser --generate-ssh-keys`,
    ]);
  });

  it("never puts a token on a command line: both sign-ins read it from a file", () => {
    const steps = appRegistrationSteps("c", "t", "/img", "--admin-username azureadmin --admin-password <password>");
    const logins = steps.filter((s) => s.includes("--federated-token"));
    expect(logins).toHaveLength(2);
    for (const l of logins) expect(l).toMatch(/--federated-token @<federated token file>$/);
  });
});

describe("the dev stack", () => {
  it("plans the app beside Lighthouse and RBAC, with both gallery grants", async () => {
    const dev = await planStack("dev");
    expect(resource(dev, T.app, "gallery-app-app").inputs.displayName).toBe("Contoso image consumers");
    expect(ofType(dev, T.fic).map((f) => f.inputs.subject)).toEqual(["repo:fabrikam/infra:environment:prod"]);
    expect(ofType(dev, T.grant).filter((g) => String(g.inputs.scope).endsWith("/galleries/gal_keyless_dev")).map((g) => g.name).sort()).toEqual([
      "gallery-app-gallery-read",
      "gallery-read-33333333-3333-4333-8333-333333333333-ComputeGalleryImageReader",
    ]);
  });

  it("creates no azuread provider or Graph object when the app registration is off", async () => {
    const c = readStackConfig(join(root, "stacks/gallery-direct.yaml"));
    const direct = await planProgram(c.values, { stack: "gallery-direct" });
    expect(direct.resources.filter((r) => r.type.startsWith("azuread:") || r.type === "pulumi:providers:azuread")).toEqual([]);
    expect(direct.warnings.filter((w) => w.includes("appRegistration"))).toEqual([]);
  });
});

describe("a managed identity of another tenant as a credential", () => {
  it("stops before the credential is sent when the stack's tenant is only known at run time", async () => {
    const values = withConfig(stackFile.values, {
      "keyless:gallery": {
        ...JSON.parse(stackFile.values["keyless:gallery"]),
        sharing: {
          appRegistration: {
            displayName: "Contoso image consumers",
            federatedCredentials: [{ name: "fabrikam-mi", issuer: "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0", subject: "22222222-2222-4222-8222-222222222222" }],
          },
        },
      },
    });
    delete values["azure-native:tenantId"];
    // As for Lighthouse's managing tenant: the credential's input fails to serialize, which the
    // language host reports as a program error; here it arrives as an unhandled rejection.
    const seen: string[] = [];
    const previous = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", (e) => seen.push(String(e)));
    try {
      const p = await planProgram(values, { stack: "gallery-app" });
      await new Promise((r) => setTimeout(r, 50));
      expect(ofType(p, T.fic)).toEqual([]);
    } finally {
      process.removeAllListeners("unhandledRejection");
      for (const l of previous) process.on("unhandledRejection", l);
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toContain(
      'keyless:gallery.sharing.appRegistration.federatedCredentials (fabrikam-mi).issuer: "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0" is another tenant than the one this stack deploys into',
    );
  });
});
