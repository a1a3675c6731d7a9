import { getClientTokenOutput } from "@pulumi/azure-native/authorization/getClientToken";
import { Secret } from "@pulumi/azure-native/keyvault/secret";
import { ResourceGroup } from "@pulumi/azure-native/resources/resourceGroup";
import * as pulumi from "@pulumi/pulumi";
import { type ArcConfig, onboardingMethod } from "../lib/config/arc";
import { ArcServer } from "./arc-server";
import { grantRole, type PrincipalType } from "./role-assignment";

/**
 * The probe secret's fixed, non-sensitive value (the on-host check reads it back). Its name is not
 * fixed: azure-native auto-names it (logical name + random suffix, kept in state), so every stack
 * generation gets a new name. azure-native deletes a secret through the Key Vault data plane without
 * purging it (pulumi-azure-native provider/pkg/resources/customresources/custom_keyvault.go,
 * DeleteSecret), and an ARM PUT of a name that is soft-deleted fails until it is purged or recovered
 * (pulumi/pulumi-azure-native#1174); a fresh name never meets its soft-deleted predecessor, and needs
 * neither purge rights nor a vault without purge protection.
 */
export const probeSecret = { logicalName: "probe", value: "keyless-probe" } as const;

export interface ArcFleetArgs {
  /** Name of the Arc resource group (rg-<workload>-<env>-arc). */
  readonly resourceGroupName: string;
  /** Azure region of the group and the machine resources. */
  readonly location: string;
  /** Tags for the group and every machine. */
  readonly tags: Readonly<Record<string, string>>;
  /** keyless:arc, validated. */
  readonly arc: ArcConfig;
  /** The onboarding service principal's secret (a Pulumi secret); the service-principal method only. */
  readonly servicePrincipalSecret?: pulumi.Input<string>;
  /** Object id of the identity running `pulumi up` (it onboards with access tokens and deletes the probe secret). */
  readonly deployerObjectId: pulumi.Input<string>;
  /** Its principal type (ARM refuses a grant whose principalType does not match the principal). */
  readonly deployerPrincipalType: PrincipalType;
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
    const group = new ResourceGroup(`${name}-rg`, { resourceGroupName: args.resourceGroupName, location: args.location, tags: { ...args.tags } }, { parent: this });
    const grants = args.arc.grants;
    const vaultAccess = grants.keyVault === "none" ? undefined : grants.keyVault;
    let probe: Secret | undefined;
    const deployerGrants: pulumi.Resource[] = [];
    if (vaultAccess) {
      // azure-native creates the secret through ARM (control plane) but deletes it through the data
      // plane (custom_keyvault.go), so on this RBAC vault the deploying identity needs a data role that
      // holds secrets/delete: Key Vault Secrets Officer (Secrets User has only getSecret/readMetadata;
      // azure-docs role-based-access-control/built-in-roles/security.md). Scope: the vault, the
      // narrowest scope that exists before the secret and still exists when the secret is deleted (a
      // grant on the secret itself would have to be created after it, and so be deleted before it).
      // The secret waits for the grant, so destroy deletes the secret first, the grant after.
      deployerGrants.push(
        grantRole(
          `${name}-deployer-secrets`,
          { scope: args.vault.id, principalId: args.deployerObjectId, principalType: args.deployerPrincipalType, role: "Key Vault Secrets Officer", description: "Deployer: delete the Arc probe secret at destroy (azure-native deletes secrets through the data plane)" },
          { parent: this },
        ),
      );
      probe = new Secret(
        `${name}-${probeSecret.logicalName}`,
        { vaultName: args.vault.name, resourceGroupName: args.vault.resourceGroupName, properties: { value: probeSecret.value, contentType: "text/plain" }, tags: { ...args.tags } },
        { parent: this, dependsOn: deployerGrants },
      );
    }
    // Secret-scope grants by default: the probe secret and each listed secret; the whole vault only
    // when keyVaultScope: vault asks for it.
    const secretIds: Record<string, pulumi.Input<string>> = {};
    if (probe) secretIds.probe = probe.id;
    for (const n of grants.keyVaultSecrets) secretIds[n] = pulumi.interpolate`${args.vault.id}/secrets/${n}`;
    const method = onboardingMethod(args.arc);
    // access-token: an ARM token of the identity running `pulumi up`, minted by azure-native with the
    // credentials it deploys with (azure-native authorization/getClientToken, default endpoint Azure Resource
    // Manager). Short-lived (about an hour); a Pulumi secret, so it is encrypted in state and never printed.
    const token = method === "access-token" && args.arc.servers.some((s) => s.onboard === "ssh") ? pulumi.secret(getClientTokenOutput({}, { parent: this }).token) : undefined;
    const blobContainerIds: Record<string, pulumi.Input<string>> = {};
    for (const c of grants.blobContainers) blobContainerIds[c] = args.containerIds[c];
    // The check uploads to the first listed container (arcupload in the examples).
    const checkContainer = grants.blobContainers[0];

    const servers: Record<string, ArcServer> = {};
    for (const s of args.arc.servers) {
      const onboarding =
        s.onboard === "ssh" && s.ssh
          ? {
              ssh: s.ssh,
              privateKey: args.sshPrivateKeys[s.name],
              method,
              servicePrincipalId: args.arc.onboarding?.servicePrincipalId,
              credential: (method === "access-token" ? token : args.servicePrincipalSecret) ?? "",
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
          keyVault: vaultAccess ? { access: vaultAccess, vaultId: grants.keyVaultScope === "vault" ? args.vault.id : undefined, secretIds } : undefined,
          verification: checkContainer
            ? {
                blobEndpoint: args.blobEndpoint,
                container: checkContainer,
                vaultUri: vaultAccess ? args.vault.uri : undefined,
                secretName: probe ? probe.name : undefined,
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
