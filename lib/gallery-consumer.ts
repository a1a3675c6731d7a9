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

/**
 * The multi-tenant app's one reply URL, where the browser lands after admin consent. Microsoft's
 * cross-tenant gallery app flow registers the same (azure-compute-docs
 * virtual-machines/share-images-across-tenants.md, "Create the app registration"). /adminconsent
 * answers with admin_consent=True&tenant=... and no authorization code (auth-v2-service.md,
 * "Response"), so no code or token reaches that page.
 */
export const consentRedirectUri = "https://www.microsoft.com/";

/** The multi-tenant app's outputs the app-registration steps are built from. */
export interface ConsumerApp {
  /** Application (client) id. */
  readonly clientId: pulumi.Output<string>;
  /** The app's home tenant (the publisher's). */
  readonly tenantId: pulumi.Output<string>;
}

/**
 * The consuming tenant's steps to create a VM from one image as the multi-tenant app, in order.
 * 1. Provision the app in their tenant: tenant-wide admin consent, opened by an administrator
 *    (entra identity/enterprise-apps/grant-admin-consent.md, the /adminconsent URL; docs/gallery.md
 *    gives `az ad sp create --id` as the equivalent). redirect_uri is required there and must be one
 *    the app registers, URL-encoded (microsoft-graph-docs concepts/auth-v2-service.md, "Request
 *    administrator consent"); an app with no reply URL gets AADSTS500113 instead.
 * 2. Signed in to their tenant as someone who may assign roles there, a role for the app's service
 *    principal on their resource group: Virtual Machine Contributor
 *    manages VMs, NICs and disks and joins existing subnets, NSGs and public IPs, without creating
 *    networks (azure-docs role-based-access-control/built-in-roles/compute.md), hence `--subnet`.
 * 3. Sign in as the app to the publisher's tenant and to theirs with the same external token (a
 *    multi-tenant app provisioned in another tenant can use its federated credential there:
 *    entra workload-id/workload-identity-federation-config-app-trust-managed-identity.md). The
 *    token is read from a file (`@file`: Azure CLI loads an argument value that starts with @ from
 *    that file, azure-cli-core commands/__init__.py _expand_file_prefixed_files), never argv.
 * 4. Create the VM: the CLI sends the publisher tenant's token as the auxiliary token ARM needs to
 *    read the image across tenants (azure-resource-manager/management/authenticate-multi-tenant.md).
 */
export function appRegistrationSteps(clientId: string, publisherTenantId: string, imageRef: string, login: string): string[] {
  const token = "@<federated token file>";
  return [
    `https://login.microsoftonline.com/<your tenant id>/adminconsent?client_id=${clientId}&redirect_uri=${encodeURIComponent(consentRedirectUri)}`,
    "az login --tenant <your tenant id>",
    `az role assignment create --assignee-object-id "$(az ad sp show --id ${clientId} --query id --output tsv)" --assignee-principal-type ServicePrincipal --role "Virtual Machine Contributor" --scope /subscriptions/<your subscription id>/resourceGroups/<your-rg>`,
    "az account clear",
    `az login --service-principal --username ${clientId} --tenant ${publisherTenantId} --federated-token ${token}`,
    `az login --service-principal --username ${clientId} --tenant <your tenant id> --federated-token ${token}`,
    `az vm create --subscription <your subscription id> --resource-group <your-rg> --name <vm-name> --image ${imageRef} --subnet <subnet id> --public-ip-address "" --nsg "" ${login}`,
  ];
}

/** Portal path for a Lighthouse consumer (the hand-made cross-tenant gallery flow). */
export const lighthousePortalPath =
  "Portal > Directories + subscriptions: select All directories and All subscriptions > Virtual machines > Create > Image: See all images > My items > Shared images";

/** Per image name: one step per sharing mode enabled. */
export function consumerSteps(g: GalleryConfig, gallery: ConsumerGallery, app?: ConsumerApp): Record<string, pulumi.Output<Record<string, string | string[]>>> {
  const out: Record<string, pulumi.Output<Record<string, string | string[]>>> = {};
  for (const image of g.images) {
    // A version id when one is published; the definition id otherwise (az picks its latest version).
    const imageRef = gallery.versionIds[image.name] ?? gallery.imageIds[image.name];
    const login = image.osType === "Windows" ? "--admin-username azureadmin --admin-password <password>" : "--admin-username azureuser --generate-ssh-keys";
    out[image.name] = pulumi.all([imageRef, gallery.sharedGalleryUniqueName, app?.clientId, app?.tenantId]).apply(([ref, unique, clientId, tenantId]) => {
      const steps: Record<string, string | string[]> = {};
      if (g.sharing.lighthouse) steps.lighthouse = `${lighthousePortalPath} > ${image.name}`;
      if (g.sharing.rbac.length > 0) {
        // Signed in to the publisher's tenant too (az login --tenant <publisher tenant>) so ARM can
        // check the image across tenants; otherwise LinkedAuthorizationFailed (docs/gallery.md).
        steps.rbac = `az vm create --resource-group <your-rg> --name <vm-name> --image ${ref} ${login}`;
      }
      if (g.sharing.direct && unique !== undefined) {
        steps.direct = `az vm create --resource-group <your-rg> --name <vm-name> --image /SharedGalleries/${unique}/Images/${image.name}/Versions/latest ${login}`;
      }
      if (g.sharing.appRegistration && clientId !== undefined && tenantId !== undefined) {
        // The ordered commands (admin consent URL or `az ad sp create`, role, two sign-ins, VM).
        steps.appRegistration = appRegistrationSteps(clientId, tenantId, ref, login);
      }
      return steps;
    });
  }
  return out;
}
