import * as pulumi from "@pulumi/pulumi";
import { Registry } from "@pulumi/azure-native/containerregistry/registry";
import { PublicNetworkAccess } from "@pulumi/azure-native/types/enums/containerregistry";

export interface ContainerRegistryArgs {
  /** Globally unique registry name (5-50 letters and digits). */
  readonly registryName: pulumi.Input<string>;
  /** Resource group that holds it. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  readonly location: string;
  /** Basic, Standard or Premium. */
  readonly sku: "Basic" | "Standard" | "Premium";
  /** Tags. */
  readonly tags: Readonly<Record<string, string>>;
}

/** A container registry pulled from with Entra ID identities only: no admin user, no anonymous pull. */
export class ContainerRegistry extends pulumi.ComponentResource {
  /** ARM id: the scope of AcrPull grants. */
  public readonly registryId: pulumi.Output<string>;
  /** Registry name. */
  public readonly registryName: pulumi.Output<string>;
  /** <name>.azurecr.io */
  public readonly loginServer: pulumi.Output<string>;

  constructor(name: string, args: ContainerRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:registry:ContainerRegistry", name, {}, opts);
    const registry = new Registry(
      `${name}-cr`,
      {
        registryName: args.registryName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: args.sku },
        // The admin user is a shared username/password: exactly what this project exists to avoid.
        adminUserEnabled: false,
        anonymousPullEnabled: false,
        publicNetworkAccess: PublicNetworkAccess.Enabled,
        tags: { ...args.tags },
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.registryId = registry.id;
    this.registryName = registry.name;
    this.loginServer = registry.loginServer;
    this.registerOutputs({ registryId: this.registryId, registryName: this.registryName, loginServer: this.loginServer });
  }
}
