import { Provider as AzureAdProvider } from "@pulumi/azuread/provider";
import * as pulumi from "@pulumi/pulumi";
import { GalleryAppRegistration } from "../components/gallery-app-registration";
import { ImageGallery } from "../components/image-gallery";
import { LighthouseDelegation } from "../components/lighthouse-delegation";
import { consumerSteps } from "../lib/gallery-consumer";
import { galleryName, resourceGroupName } from "../lib/naming";
import type { Platform } from "./platform";

/** What the plan says when the app registration is on: Graph rights are invisible to ARM and to the offline plan. */
export const graphPermissionWarning =
  "keyless:gallery.sharing.appRegistration: the identity running pulumi up needs Microsoft Graph rights to create the multi-tenant app and its service principal (a workflow's service principal: the Application.ReadWrite.OwnedBy application permission; a user: the Cloud Application Administrator role); this cannot be checked offline (docs/operations.md, Microsoft Graph permission)";

/** Image gallery shared with other tenants (keyless:gallery, docs/gallery.md). */
export function galleryPart(p: Platform): Record<string, unknown> | null {
  const g = p.config.gallery;
  if (!g) return null;
  const imageGallery = new ImageGallery(
    "gallery",
    {
      resourceGroupName: resourceGroupName(p.names, "gallery"),
      galleryName: galleryName(p.names),
      location: p.config.location,
      subscriptionId: p.client.subscriptionId,
      images: g.images,
      rbac: g.sharing.rbac,
      direct: g.sharing.direct,
      tags: p.config.tags,
    },
    { ...p.stateful, dependsOn: p.registrations.dependencies("Microsoft.Compute") },
  );
  const lh = g.sharing.lighthouse;
  const delegation = lh
    ? new LighthouseDelegation(
        "gallery-delegation",
        {
          subscriptionId: p.client.subscriptionId,
          customerTenantId: p.client.tenantId,
          scope: imageGallery.resourceGroupId,
          scopeName: resourceGroupName(p.names, "gallery"),
          offerName: lh.offerName,
          description: lh.description,
          managedByTenantId: lh.managedByTenantId,
          authorizations: lh.authorizations,
          eligibleAuthorizations: lh.eligibleAuthorizations,
          allowRemovalByManagingTenant: lh.allowRemovalByManagingTenant,
        },
        { ...p.providers, dependsOn: p.registrations.dependencies("Microsoft.ManagedServices") },
      )
    : undefined;
  const appConfig = g.sharing.appRegistration;
  let app: GalleryAppRegistration | undefined;
  if (appConfig) {
    // Microsoft Graph, not ARM: its own explicit provider, created only when the part needs it
    // (default providers are disabled), in the tenant the azure-native provider signed in to.
    const azuread = new AzureAdProvider("azuread", { tenantId: p.client.tenantId });
    pulumi.log.warn(graphPermissionWarning);
    app = new GalleryAppRegistration(
      "gallery-app",
      {
        displayName: appConfig.displayName,
        federatedCredentials: appConfig.federatedCredentials,
        galleryId: imageGallery.galleryId,
        tenantId: p.client.tenantId,
        ownerObjectId: p.deployerObjectId,
      },
      { providers: [p.azure, azuread] },
    );
  }
  return {
    id: imageGallery.galleryId,
    resourceGroup: imageGallery.resourceGroupName,
    imageIds: imageGallery.imageIds,
    versionIds: imageGallery.versionIds,
    delegation: delegation ? { registrationDefinitionId: delegation.definitionId, registrationAssignmentId: delegation.assignmentId } : undefined,
    appRegistration: app ? { clientId: app.clientId, servicePrincipalObjectId: app.servicePrincipalObjectId, tenantId: app.tenantId } : undefined,
    consumerSteps: consumerSteps(g, imageGallery, app),
  };
}
