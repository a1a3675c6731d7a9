import { Provider as AzureProvider } from "@pulumi/azure-native/provider";
import { Provider as CommandProvider } from "@pulumi/command/provider";
import { describe, expect, it } from "vitest";
import { ImageGallery } from "../components/image-gallery";
import { roleAssignmentName } from "../lib/naming";
import { mockSubscriptionId } from "../tools/plan/mocks";
import { ofType, planInline, planProgram, planStack, resource, stackConfig, withConfig } from "./support/harness";

// The gallery, its image definitions, RBAC grants and direct sharing, as the dev stack plans them.

const rg = `/subscriptions/${mockSubscriptionId}/resourceGroups/rg-keyless-dev-gallery`;
const galleryId = `${rg}/providers/Microsoft.Compute/galleries/gal_keyless_dev`;
const appSp = "33333333-3333-4333-8333-333333333333";

describe("ImageGallery in the dev stack", async () => {
  const plan = await planStack("dev");
  const group = resource(plan, "azure-native:resources:ResourceGroup", "gallery-rg");

  it("puts the gallery in a resource group of its own, holding gallery resources and nothing else", () => {
    expect(group.inputs.resourceGroupName).toBe("rg-keyless-dev-gallery");
    const inGroup = plan.resources.filter((r) => r.inputs.resourceGroupName === "rg-keyless-dev-gallery").map((r) => `${r.type} ${r.name}`);
    expect(inGroup.sort()).toEqual([
      "azure-native:compute:Gallery gallery-gallery",
      "azure-native:compute:GalleryImage gallery-ubuntu-golden",
      "azure-native:compute:GalleryImage gallery-windows-golden",
      "azure-native:resources:ResourceGroup gallery-rg",
    ]);
    // Grants and the delegation assignment inside the group target the gallery or the group itself.
    const scoped = plan.resources.filter((r) => typeof r.inputs.scope === "string" && (r.inputs.scope as string).startsWith(rg));
    expect(scoped.map((r) => `${r.type} ${r.inputs.scope}`).sort()).toEqual([
      `azure-native:authorization:RoleAssignment ${galleryId}`, // the app registration's service principal
      `azure-native:authorization:RoleAssignment ${galleryId}`, // the RBAC principal
      `azure-native:managedservices:RegistrationAssignment ${rg}`,
    ]);
  });

  it("creates a private gallery (no sharing profile) when direct sharing is off", () => {
    const gallery = resource(plan, "azure-native:compute:Gallery", "gallery-gallery");
    expect(gallery.inputs).toMatchObject({ galleryName: "gal_keyless_dev", resourceGroupName: "rg-keyless-dev-gallery", location: "japaneast" });
    expect(gallery.inputs.sharingProfile).toBeUndefined();
    expect(ofType(plan, "command:local:Command").filter((c) => c.name.includes("direct-share"))).toEqual([]);
  });

  it("defines each image with its OS, generation and identifier", () => {
    expect(resource(plan, "azure-native:compute:GalleryImage", "gallery-ubuntu-golden").inputs).toMatchObject({
      galleryName: "gal_keyless_dev",
      galleryImageName: "ubuntu-golden",
      osType: "Linux",
      osState: "Generalized",
      hyperVGeneration: "V2",
      identifier: { publisher: "contoso", offer: "golden", sku: "ubuntu-24_04" },
    });
    expect(resource(plan, "azure-native:compute:GalleryImage", "gallery-windows-golden").inputs).toMatchObject({ osType: "Windows", identifier: { sku: "win2022-datacenter" } });
    expect(ofType(plan, "azure-native:compute:GalleryImageVersion")).toEqual([]);
  });

  it("grants the app's service principal Compute Gallery Image Reader on the gallery only", () => {
    const grants = ofType(plan, "azure-native:authorization:RoleAssignment").filter((r) => r.inputs.principalId === appSp);
    expect(grants.map((g) => g.inputs)).toEqual([
      {
        roleAssignmentName: roleAssignmentName(galleryId, appSp, "cf7c76d2-98a3-4358-a134-615aa78bf44d"),
        scope: galleryId,
        principalId: appSp,
        principalType: "ServicePrincipal",
        roleDefinitionId: `/subscriptions/${mockSubscriptionId}/providers/Microsoft.Authorization/roleDefinitions/cf7c76d2-98a3-4358-a134-615aa78bf44d`,
        description: "Read the Keyless image gallery",
      },
    ]);
  });

  it("exports the gallery, image and delegation ids and a consumer step per image and mode", () => {
    const out = plan.outputs.gallery as Record<string, any>;
    expect(out.id).toBe(galleryId);
    expect(out.imageIds).toEqual({ "ubuntu-golden": `${galleryId}/images/ubuntu-golden`, "windows-golden": `${galleryId}/images/windows-golden` });
    expect(out.delegation.registrationAssignmentId).toMatch(new RegExp(`^${rg}/providers/Microsoft.ManagedServices/registrationAssignments/[0-9a-f-]{36}$`));
    expect(out.consumerSteps["ubuntu-golden"]).toEqual({
      lighthouse: expect.stringMatching(/My items > Shared images > ubuntu-golden$/),
      rbac: `az vm create --resource-group <your-rg> --name <vm-name> --image ${galleryId}/images/ubuntu-golden --admin-username azureuser --generate-ssh-keys`,
      // test/gallery-app-registration.test.ts checks these commands one by one.
      appRegistration: expect.arrayContaining([expect.stringContaining(`--image ${galleryId}/images/ubuntu-golden `)]),
    });
    expect(out.consumerSteps["windows-golden"].rbac).toContain("--admin-password <password>");
  });
});

describe("ImageGallery options", () => {
  it("publishes version 1.0.0 from a managed image (source.id) or a VM (source.virtualMachineId) in the home region", async () => {
    const image = `/subscriptions/${mockSubscriptionId}/resourceGroups/rg-build/providers/Microsoft.Compute/images/golden`;
    const vm = `/subscriptions/${mockSubscriptionId}/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/builder`;
    const plan = await planInline(() => {
      const g = new ImageGallery(
        "g",
        {
          resourceGroupName: "rg-g",
          galleryName: "gal_g",
          location: "japaneast",
          subscriptionId: mockSubscriptionId,
          images: [
            { name: "a", osType: "Linux", hyperVGeneration: "V2", publisher: "p", offer: "o", sku: "a", sourceImageId: image },
            { name: "b", osType: "Linux", hyperVGeneration: "V1", publisher: "p", offer: "o", sku: "b", sourceImageId: vm },
          ],
          rbac: [],
          tags: {},
        },
        { providers: [new AzureProvider("azure", { location: "japaneast" }), new CommandProvider("command")] },
      );
      return { versions: g.versionIds };
    });
    expect(resource(plan, "azure-native:compute:GalleryImageVersion", "g-a-1.0.0").inputs).toMatchObject({
      galleryImageName: "a",
      galleryImageVersionName: "1.0.0",
      storageProfile: { source: { id: image } },
      publishingProfile: { targetRegions: [{ name: "japaneast", regionalReplicaCount: 1 }], replicaCount: 1 },
    });
    expect(resource(plan, "azure-native:compute:GalleryImageVersion", "g-b-1.0.0").inputs.storageProfile).toEqual({ source: { virtualMachineId: vm } });
    expect((plan.outputs.versions as Record<string, string>).a).toBe("/subscriptions/5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b/resourceGroups/rg-g/providers/Microsoft.Compute/galleries/gal_g/images/a/versions/1.0.0");
  });

  it("direct sharing: a Groups gallery, az sig share add on create and the same remove on delete", async () => {
    const dev = stackConfig("dev");
    const g = JSON.parse(dev.values["keyless:gallery"]);
    const tenant = "55555555-5555-4555-8555-555555555555";
    const sub = "66666666-6666-4666-8666-666666666666";
    const plan = await planProgram(withConfig(dev.values, { "keyless:gallery": { ...g, sharing: { direct: { tenants: [tenant], subscriptions: [sub] } } } }));
    expect(resource(plan, "azure-native:compute:Gallery", "gallery-gallery").inputs.sharingProfile).toEqual({ permissions: "Groups" });
    const share = resource(plan, "command:local:Command", "gallery-direct-share");
    const target = `--subscription ${mockSubscriptionId} --resource-group rg-keyless-dev-gallery --gallery-name gal_keyless_dev --subscription-ids ${sub} --tenant-ids ${tenant} --output none`;
    expect(share.inputs.create).toBe(`az sig share add ${target}`);
    const show = `az sig show --subscription ${mockSubscriptionId} --resource-group rg-keyless-dev-gallery --gallery-name gal_keyless_dev --query sharingProfile.permissions --output tsv`;
    expect(share.inputs.delete).toBe(`if [ "$(${show})" = "Groups" ]; then az sig share remove ${target}; fi`);
    const gallery = resource(plan, "azure-native:compute:Gallery", "gallery-gallery");
    expect(share.dependencies).toContain(gallery.urn);
    // Replaced with the gallery: its shares are removed before the old gallery goes and added to the new one.
    expect(share).toMatchObject({ deleteBeforeReplace: true, replaceWith: [gallery.urn] });
    // No Lighthouse, no RBAC: nothing else is shared and Microsoft.ManagedServices is not registered.
    expect(ofType(plan, "azure-native:managedservices:RegistrationDefinition")).toEqual([]);
    expect(ofType(plan, "command:local:Command").map((c) => c.name)).not.toContain("resource-providers-microsoft.managedservices");
    const steps = (plan.outputs.gallery as Record<string, any>).consumerSteps["ubuntu-golden"];
    expect(steps).toEqual({
      direct: `az vm create --resource-group <your-rg> --name <vm-name> --image /SharedGalleries/${mockSubscriptionId}-GAL_KEYLESS_DEV/Images/ubuntu-golden/Versions/latest --admin-username azureuser --generate-ssh-keys`,
    });
  });

  it("replaces the gallery, old one first, when direct sharing is turned on or off (Azure cannot update it)", async () => {
    const plan = (direct?: { tenants: string[]; subscriptions: string[] }) =>
      planInline(() => {
        new ImageGallery(
          "g",
          { resourceGroupName: "rg-g", galleryName: "gal_g", location: "japaneast", subscriptionId: mockSubscriptionId, images: [], rbac: [], direct, tags: {} },
          { providers: [new AzureProvider("azure", { location: "japaneast" }), new CommandProvider("command")] },
        );
      });
    for (const p of [await plan(), await plan({ tenants: ["55555555-5555-4555-8555-555555555555"], subscriptions: [] })]) {
      expect(resource(p, "azure-native:compute:Gallery", "g-gallery")).toMatchObject({ replaceOnChanges: ["sharingProfile"], deleteBeforeReplace: true });
      // The group is never replaced on the gallery's account.
      expect(resource(p, "azure-native:resources:ResourceGroup", "g-rg")).toMatchObject({ replaceOnChanges: [], deleteBeforeReplace: false });
    }
  });

  it("plans nothing of the gallery when keyless:gallery is absent", async () => {
    const plan = await planProgram(withConfig(stackConfig("dev").values, { "keyless:gallery": undefined }));
    expect(plan.resources.filter((r) => r.urn.includes("keyless:gallery:") || r.type.includes(":managedservices:") || r.type.startsWith("azure-native:compute:Galler"))).toEqual([]);
    expect(plan.outputs.gallery ?? null).toBeNull();
  });
});
