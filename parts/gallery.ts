import { ImageGallery } from "../components/image-gallery";
import { LighthouseDelegation } from "../components/lighthouse-delegation";
import { consumerSteps } from "../lib/gallery-consumer";
import { galleryName, resourceGroupName } from "../lib/naming";
import type { Platform } from "./platform";

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
  return {
    id: imageGallery.galleryId,
    resourceGroup: imageGallery.resourceGroupName,
    imageIds: imageGallery.imageIds,
    versionIds: imageGallery.versionIds,
    delegation: delegation ? { registrationDefinitionId: delegation.definitionId, registrationAssignmentId: delegation.assignmentId } : undefined,
    consumerSteps: consumerSteps(g, imageGallery),
  };
}
