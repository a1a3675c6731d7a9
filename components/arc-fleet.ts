import * as keyvault from "@pulumi/azure-native/keyvault";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import type { ArcConfig } from "../lib/config/arc";
import { ArcServer } from "./arc-server";

/** The probe secret's name and fixed, non-sensitive value: the on-host check reads it back. */
export const probeSecret = { name: "keyless-arc-probe", value: "keyless-probe" } as const;

export interface ArcFleetArgs {
  /** Name of the Arc resource group (rg-<workload>-<env>-arc). */
  readonly resourceGroupName: string;
  /** Azure region of the group and the machine resources. */
  readonly location: string;
  /** Tags for the group and every machine. */
  readonly tags: Readonly<Record<string, string>>;
  /** keyless:arc, validated. */
  readonly arc: ArcConfig;
  /** The onboarding service principal's secret (a Pulumi secret); needed when a server has onboard: ssh. */
  readonly servicePrincipalSecret?: pulumi.Input<string>;
  /** SSH private key per server name (Pulumi secrets). */
  readonly sshPrivateKeys: Readonly<Record<string, pulumi.Input<string>>>;
  /** Tenant and subscription the machines are created in. */
  readonly tenantId: pulumi.Input<string>;
  readonly subscriptionId: pulumi.Input<string>;
  /** ARM id of every container of the storage account, by name (only the granted ones are used). */
  readonly containerIds: Readonly<Record<string, pulumi.Input<string>>>;
  /** https://<account>.blob.core.windows.net/ */
  readonly blobEndpoint: pulumi.Input<string>;
  /** The vault the identities read from. */
  readonly vault: { readonly id: pulumi.Input<string>; readonly name: pulumi.Input<string>; readonly resourceGroupName: pulumi.Input<string>; readonly uri: pulumi.Input<string> };
}

/**
 * The Arc fleet: its resource group (where `onboard: ssh` servers are connected), a probe secret in
 * the vault for the on-host check, and one ArcServer per configured server, keyed by server name.
 */
export class ArcFleet extends pulumi.ComponentResource {
  /** Name of the Arc resource group. */
  public readonly resourceGroupName: pulumi.Output<string>;
  /** Each server, by name. */
  public readonly servers: Readonly<Record<string, ArcServer>>;

  constructor(name: string, args: ArcFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:arc:ArcFleet", name, {}, opts);
    const group = new resources.ResourceGroup(`${name}-rg`, { resourceGroupName: args.resourceGroupName, location: args.location, tags: { ...args.tags } }, { parent: this });
    const grants = args.arc.grants;
    const vaultAccess = grants.keyVault === "none" ? undefined : grants.keyVault;
    const probe = vaultAccess
      ? new keyvault.Secret(
          `${name}-probe`,
          { vaultName: args.vault.name, resourceGroupName: args.vault.resourceGroupName, secretName: probeSecret.name, properties: { value: probeSecret.value, contentType: "text/plain" }, tags: { ...args.tags } },
          { parent: this },
        )
      : undefined;
    const blobContainerIds: Record<string, pulumi.Input<string>> = {};
    for (const c of grants.blobContainers) blobContainerIds[c] = args.containerIds[c];
    // The check uploads to the first listed container (the primary one in the hand-made flow: arcupload).
    const checkContainer = grants.blobContainers[0];

    const servers: Record<string, ArcServer> = {};
    for (const s of args.arc.servers) {
      const onboarding =
        s.onboard === "ssh" && s.ssh && args.arc.onboarding
          ? {
              ssh: s.ssh,
              privateKey: args.sshPrivateKeys[s.name],
              servicePrincipalId: args.arc.onboarding.servicePrincipalId,
              servicePrincipalSecret: args.servicePrincipalSecret ?? "",
              tenantId: args.tenantId,
              subscriptionId: args.subscriptionId,
              users: s.users ?? [],
            }
          : undefined;
      servers[s.name] = new ArcServer(
        `${name}-${s.name}`,
        {
          machineName: s.name,
          os: s.os,
          // ssh servers join the fleet's group; existing ones stay where they were onboarded.
          resourceGroupName: s.onboard === "existing" && s.resourceGroup ? s.resourceGroup : group.name,
          location: args.location,
          tags: args.tags,
          onboarding,
          blobContainerIds,
          keyVault: vaultAccess ? { id: args.vault.id, access: vaultAccess } : undefined,
          verification: checkContainer
            ? {
                blobEndpoint: args.blobEndpoint,
                container: checkContainer,
                vaultUri: vaultAccess ? args.vault.uri : undefined,
                secretName: probe ? probeSecret.name : undefined,
                expectedSecret: probe ? probeSecret.value : undefined,
                dependsOn: probe ? [probe] : [],
              }
            : undefined,
        },
        { parent: this },
      );
    }
    this.resourceGroupName = group.name;
    this.servers = servers;
    this.registerOutputs({ resourceGroupName: this.resourceGroupName });
  }
}
