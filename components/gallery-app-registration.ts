import * as pulumi from "@pulumi/pulumi";
import { Application } from "@pulumi/azuread/application";
import { ApplicationFederatedIdentityCredential } from "@pulumi/azuread/applicationFederatedIdentityCredential";
import { ServicePrincipal } from "@pulumi/azuread/servicePrincipal";
import { entraIssuerTenant, type FederatedCredentialConfig } from "../lib/config/gallery";
import { consentRedirectUri } from "../lib/gallery-consumer";
import { grantRole } from "./role-assignment";

export interface GalleryAppRegistrationArgs {
  /** The application's display name (shown to the consumer's admin at consent). */
  readonly displayName: string;
  /** Federated identity credentials, keyed by their name; never a password or a certificate. */
  readonly federatedCredentials: readonly FederatedCredentialConfig[];
  /** ARM id of the gallery the app may read. */
  readonly galleryId: pulumi.Input<string>;
  /** The tenant this stack deploys into: the app's home tenant. */
  readonly tenantId: pulumi.Input<string>;
  /** Object id of the principal running `pulumi up`, made owner of the app and its service principal. */
  readonly ownerObjectId: pulumi.Input<string>;
}

/** Sign-in audience of a multi-tenant app: accounts in any Entra organization (no personal accounts). */
export const multiTenantAudience = "AzureADMultipleOrgs";

/**
 * A multi-tenant application in the publisher's tenant that other tenants use to read the gallery,
 * without a secret: its service principal holds Compute Gallery Image Reader on the gallery, and
 * the consumer signs in as the app with a token from its own workload (GitHub Actions OIDC, its
 * Kubernetes cluster's issuer...) that a federated identity credential trusts. The consumer
 * provisions the app in its tenant (admin consent) and grants it a role there; the same external
 * token then signs in to both tenants (docs/gallery.md, "App registration with federation").
 */
export class GalleryAppRegistration extends pulumi.ComponentResource {
  /** Application (client) id: what the consumer signs in as and consents to. */
  public readonly clientId: pulumi.Output<string>;
  /** Object id of the application. */
  public readonly applicationObjectId: pulumi.Output<string>;
  /** Object id of the app's service principal in this tenant (the gallery grant's principal). */
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** The app's home tenant. */
  public readonly tenantId: pulumi.Output<string>;

  constructor(name: string, args: GalleryAppRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:gallery:GalleryAppRegistration", name, {}, opts);
    const owners = [args.ownerObjectId];

    const app = new Application(
      `${name}-app`,
      {
        displayName: args.displayName,
        signInAudience: multiTenantAudience,
        // With the Application.ReadWrite.OwnedBy permission the deployer can manage only apps it
        // owns, so it must be listed (the azuread provider's Application docs, "API Permissions").
        owners,
        // A second app with the same name (left by an interrupted run) fails the create instead of
        // silently duplicating the registration.
        preventDuplicateNames: true,
        description: "Reads the Keyless image gallery from other tenants; signed in to with federated credentials only",
        // The consumer's admin consent URL needs a reply URL the app registers (AADSTS500113
        // otherwise); the one Microsoft's cross-tenant gallery flow uses (lib/gallery-consumer.ts).
        web: { redirectUris: [consentRedirectUri] },
      },
      // The provider returns only once the new application can be read back (it polls Graph for
      // replication: hashicorp/terraform-provider-azuread, application resource, "Waiting for
      // Application"), so the service principal and the credentials below do not race it.
      { parent: this },
    );

    const sp = new ServicePrincipal(
      `${name}-sp`,
      {
        clientId: app.clientId,
        // Owner of both the app and its service principal, for the same reason (azuread ServicePrincipal docs).
        owners,
      },
      { parent: this },
    );

    // Created one after another: parallel writes of federated credentials under one parent are
    // refused with 409 for managed identities (entra/workload-id/workload-identity-federation-considerations.md);
    // serial costs seconds and avoids the same race on an application.
    let previous: pulumi.Resource | undefined;
    for (const c of args.federatedCredentials) {
      const entraTenant = entraIssuerTenant(c.issuer);
      // A managed identity is a credential only of an app in its own tenant; lib/config checks this
      // when azure-native:tenantId is set, this catches it before the credential is sent otherwise.
      const issuer =
        entraTenant === undefined
          ? pulumi.output(c.issuer)
          : pulumi.output(args.tenantId).apply((own) => {
              if (own.toLowerCase() !== entraTenant.toLowerCase()) {
                throw new Error(
                  `keyless:gallery.sharing.appRegistration.federatedCredentials (${c.name}).issuer: ${JSON.stringify(c.issuer)} is another tenant than the one this stack deploys into; a managed identity can be a federated credential only of an app in its own tenant`,
                );
              }
              return c.issuer;
            });
      const credential: pulumi.Resource = new ApplicationFederatedIdentityCredential(
        `${name}-fic-${c.name}`,
        {
          applicationId: app.id,
          displayName: c.name,
          issuer,
          subject: c.subject,
          audiences: [...c.audiences],
          description: c.description,
        },
        { parent: this, dependsOn: previous ? [previous] : [] },
      );
      previous = credential;
    }

    // The only Azure right the app gets here: read the gallery's images. principalType avoids
    // PrincipalNotFound while the new service principal replicates (role-assignment.ts).
    grantRole(
      `${name}-gallery-read`,
      { scope: args.galleryId, principalId: sp.objectId, principalType: "ServicePrincipal", role: "Compute Gallery Image Reader", description: "Read the Keyless image gallery (multi-tenant app)" },
      { parent: this },
    );

    this.clientId = app.clientId;
    this.applicationObjectId = app.objectId;
    this.servicePrincipalObjectId = sp.objectId;
    this.tenantId = pulumi.output(args.tenantId);
    this.registerOutputs({ clientId: this.clientId, applicationObjectId: this.applicationObjectId, servicePrincipalObjectId: this.servicePrincipalObjectId });
  }
}
