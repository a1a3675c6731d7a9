import * as pulumi from "@pulumi/pulumi";
import { Gallery } from "@pulumi/azure-native/compute/gallery";
import { GalleryImage } from "@pulumi/azure-native/compute/galleryImage";
import { GalleryImageVersion } from "@pulumi/azure-native/compute/galleryImageVersion";
import { GallerySharingPermissionTypes, OperatingSystemTypes, OperatingSystemStateTypes } from "@pulumi/azure-native/types/enums/compute";
import { ResourceGroup } from "@pulumi/azure-native/resources/resourceGroup";
import * as local from "@pulumi/command/local";
import type { GalleryImageConfig } from "../lib/config/gallery";
import { grantRole, type PrincipalType } from "./role-assignment";

export interface GalleryRbacGrant {
  /** Object id of the principal (e.g. a multi-tenant app's service principal) that may read the gallery. */
  readonly principalId: string;
  /** Kind of principal, always sent so a fresh principal is found. */
  readonly principalType: PrincipalType;
  /** Read-only role on the gallery. */
  readonly role: "Compute Gallery Image Reader" | "Reader";
}

export interface DirectSharing {
  /** Tenants whose every user may create VMs from the gallery's images. */
  readonly tenants: readonly string[];
  /** Subscriptions whose every user may create VMs from the gallery's images. */
  readonly subscriptions: readonly string[];
}

export interface ImageGalleryArgs {
  /** Name of the resource group that holds the gallery and nothing else (the delegated scope). */
  readonly resourceGroupName: string;
  /** Gallery name: letters, digits, periods and underscores. */
  readonly galleryName: string;
  /** Azure region of the group, gallery, definitions and versions (a version's home region). */
  readonly location: string;
  /** Subscription the gallery lives in (for the `az sig share` commands). */
  readonly subscriptionId: pulumi.Input<string>;
  /** Image definitions, keyed by name. */
  readonly images: readonly GalleryImageConfig[];
  /** RBAC sharing: read grants on the gallery itself. */
  readonly rbac: readonly GalleryRbacGrant[];
  /** Direct sharing with tenants/subscriptions (preview), or undefined for a private gallery. */
  readonly direct?: DirectSharing;
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
}

/** The version published when an image has a source. */
export const firstVersion = "1.0.0";

/**
 * A Compute Gallery in a resource group of its own, so a Lighthouse delegation on that group
 * reaches the gallery and nothing else; its image definitions, a first version for each image with
 * a source, read grants on the gallery, and direct sharing when asked for.
 */
export class ImageGallery extends pulumi.ComponentResource {
  /** ARM id of the gallery's resource group (the Lighthouse assignment scope). */
  public readonly resourceGroupId: pulumi.Output<string>;
  /** Resource group name. */
  public readonly resourceGroupName: pulumi.Output<string>;
  /** ARM id of the gallery (the RBAC scope). */
  public readonly galleryId: pulumi.Output<string>;
  /** Gallery name. */
  public readonly galleryName: pulumi.Output<string>;
  /** Image definition ARM ids by image name. */
  public readonly imageIds: Record<string, pulumi.Output<string>>;
  /** Image version ARM ids by image name, for images with a source. */
  public readonly versionIds: Record<string, pulumi.Output<string>>;
  /** The gallery's unique name as direct-share consumers see it (/SharedGalleries/<uniqueName>), when shared directly. */
  public readonly sharedGalleryUniqueName: pulumi.Output<string | undefined>;

  constructor(name: string, args: ImageGalleryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:gallery:ImageGallery", name, {}, opts);
    const tags = { ...args.tags };

    const group = new ResourceGroup(`${name}-rg`, { resourceGroupName: args.resourceGroupName, location: args.location, tags }, { parent: this });

    const gallery = new Gallery(
      `${name}-gallery`,
      {
        galleryName: args.galleryName,
        resourceGroupName: group.name,
        location: args.location,
        description: "Keyless VM images shared with other tenants",
        // Direct sharing needs a gallery created with permissions Groups.
        sharingProfile: args.direct ? { permissions: GallerySharingPermissionTypes.Groups } : undefined,
        tags,
      },
      {
        parent: this,
        // Waits for the Microsoft.Compute registration the caller passes in; definitions and versions follow the gallery.
        dependsOn: opts?.dependsOn,
        // "You can't use an existing gallery, and the property can't currently be updated"
        // (azure-compute-docs virtual-machines/share-gallery-direct.md, "Prerequisites"): turning
        // direct sharing on or off replaces the gallery instead of an update Azure refuses. Its name
        // is fixed and azure-native refuses to create a resource that exists ("cannot create already
        // existing resource", provider.go), so the old gallery goes first. Its definitions, versions
        // and grants name it in inputs that force their replacement, so Pulumi deletes them before
        // it (pulumi/pulumi step_generator.go, calculateDependentReplacements) and recreates them.
        replaceOnChanges: ["sharingProfile"],
        deleteBeforeReplace: true,
      },
    );

    this.imageIds = {};
    this.versionIds = {};
    for (const image of args.images) {
      const definition = new GalleryImage(
        `${name}-${image.name}`,
        {
          galleryName: gallery.name,
          galleryImageName: image.name,
          resourceGroupName: group.name,
          location: args.location,
          osType: image.osType === "Linux" ? OperatingSystemTypes.Linux : OperatingSystemTypes.Windows,
          // Images published from a captured, generalized VM or managed image.
          osState: OperatingSystemStateTypes.Generalized,
          hyperVGeneration: image.hyperVGeneration,
          identifier: { publisher: image.publisher, offer: image.offer, sku: image.sku },
          tags,
        },
        { parent: this },
      );
      this.imageIds[image.name] = definition.id;
      if (image.sourceImageId !== undefined) {
        const isVm = /\/providers\/Microsoft\.Compute\/virtualMachines\//i.test(image.sourceImageId);
        const version = new GalleryImageVersion(
          `${name}-${image.name}-${firstVersion}`,
          {
            galleryName: gallery.name,
            galleryImageName: definition.name,
            galleryImageVersionName: firstVersion,
            resourceGroupName: group.name,
            location: args.location,
            // A managed image goes in source.id, a VM in source.virtualMachineId (compute REST spec
            // GalleryArtifactVersionFullSource). One replica in the home region, which a direct
            // shared gallery requires (share-gallery-direct.md, "Limitations").
            storageProfile: { source: isVm ? { virtualMachineId: image.sourceImageId } : { id: image.sourceImageId } },
            publishingProfile: { targetRegions: [{ name: args.location, regionalReplicaCount: 1 }], replicaCount: 1 },
            tags,
          },
          { parent: this },
        );
        this.versionIds[image.name] = version.id;
      }
    }

    for (const grant of args.rbac) {
      // Keyed by principal and role, never by list position.
      grantRole(`${name}-read-${grant.principalId}-${grant.role.replace(/ /g, "")}`, { scope: gallery.id, principalId: grant.principalId, principalType: grant.principalType, role: grant.role, description: "Read the Keyless image gallery" }, { parent: this });
    }

    if (args.direct) {
      // azure-native has no resource for POST .../galleries/{name}/share (an action, not a resource),
      // so the Azure CLI does it; `delete` undoes exactly what `create` added before the gallery goes.
      const target = pulumi.interpolate`--subscription ${args.subscriptionId} --resource-group ${group.name} --gallery-name ${gallery.name}`;
      const ids = [
        args.direct.subscriptions.length > 0 ? `--subscription-ids ${args.direct.subscriptions.join(" ")}` : "",
        args.direct.tenants.length > 0 ? `--tenant-ids ${args.direct.tenants.join(" ")}` : "",
      ]
        .filter((s) => s !== "")
        .join(" ");
      new local.Command(
        `${name}-direct-share`,
        {
          create: pulumi.interpolate`az sig share add ${target} ${ids} --output none`,
          // Only a gallery that is shared (permissions Groups) has shares to remove; the check keeps the
          // delete from failing on a gallery that is no longer shared (or gone).
          delete: pulumi.interpolate`if [ "$(az sig show ${target} --query sharingProfile.permissions --output tsv)" = "Groups" ]; then az sig share remove ${target} ${ids} --output none; fi`,
          // A changed list runs delete (old ids) then create (new ids).
          triggers: [ids],
        },
        {
          parent: this,
          deleteBeforeReplace: true,
          dependsOn: [gallery],
          // A replaced gallery (replaceOnChanges above, or --replace) takes its shares with it: the
          // command is replaced too, removing them before the old gallery goes and adding them to the
          // new one; turned off, sharing is removed before the old gallery goes too (the engine deletes
          // what replaceWith names first). Its own inputs would not change, so nothing else would run it again.
          replaceWith: [gallery],
        },
      );
    }

    this.resourceGroupId = group.id;
    this.resourceGroupName = group.name;
    this.galleryId = gallery.id;
    this.galleryName = gallery.name;
    this.sharedGalleryUniqueName = args.direct ? gallery.identifier.apply((i) => i?.uniqueName) : pulumi.output(undefined);
    this.registerOutputs({
      resourceGroupId: this.resourceGroupId,
      galleryId: this.galleryId,
      imageIds: this.imageIds,
      versionIds: this.versionIds,
      sharedGalleryUniqueName: this.sharedGalleryUniqueName,
    });
  }
}
