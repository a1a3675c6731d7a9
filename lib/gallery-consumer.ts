import * as pulumi from "@pulumi/pulumi";
import type { GalleryConfig } from "./config/gallery";

// What the consuming tenant does to create a VM from each image, exported as a stack output so the
// publisher can hand it over as is. Paths and commands: the hand-made cross-tenant gallery flow; azure-compute-docs
// virtual-machines/vm-generalized-image-version.md (RBAC, direct shared gallery sections).

/** The gallery outputs these steps are built from. */
export interface ConsumerGallery {
  readonly imageIds: Record<string, pulumi.Output<string>>;
  readonly versionIds: Record<string, pulumi.Output<string>>;
  readonly sharedGalleryUniqueName: pulumi.Output<string | undefined>;
}

/** Portal path for a Lighthouse consumer (the hand-made cross-tenant gallery flow). */
export const lighthousePortalPath =
  "Portal > Directories + subscriptions: select All directories and All subscriptions > Virtual machines > Create > Image: See all images > My items > Shared images";

/** Per image name: one step per sharing mode enabled. */
export function consumerSteps(g: GalleryConfig, gallery: ConsumerGallery): Record<string, pulumi.Output<Record<string, string>>> {
  const out: Record<string, pulumi.Output<Record<string, string>>> = {};
  for (const image of g.images) {
    // A version id when one is published; the definition id otherwise (az picks its latest version).
    const imageRef = gallery.versionIds[image.name] ?? gallery.imageIds[image.name];
    const login = image.osType === "Windows" ? "--admin-username azureadmin --admin-password <password>" : "--admin-username azureuser --generate-ssh-keys";
    out[image.name] = pulumi.all([imageRef, gallery.sharedGalleryUniqueName]).apply(([ref, unique]) => {
      const steps: Record<string, string> = {};
      if (g.sharing.lighthouse) steps.lighthouse = `${lighthousePortalPath} > ${image.name}`;
      if (g.sharing.rbac.length > 0) {
        // Signed in to the publisher's tenant too (az login --tenant <publisher tenant>) so ARM can
        // check the image across tenants; otherwise LinkedAuthorizationFailed (docs/gallery.md).
        steps.rbac = `az vm create --resource-group <your-rg> --name <vm-name> --image ${ref} ${login}`;
      }
      if (g.sharing.direct && unique !== undefined) {
        steps.direct = `az vm create --resource-group <your-rg> --name <vm-name> --image /SharedGalleries/${unique}/Images/${image.name}/Versions/latest ${login}`;
      }
      return steps;
    });
  }
  return out;
}
