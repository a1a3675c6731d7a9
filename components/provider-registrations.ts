import * as pulumi from "@pulumi/pulumi";
import * as local from "@pulumi/command/local";

export interface ProviderRegistrationsArgs {
  /** Resource provider namespaces the enabled parts need, e.g. Microsoft.KeyVault. */
  readonly namespaces: readonly string[];
  /** Subscription to register them in (the azure-native provider's, so `az` cannot pick another). */
  readonly subscriptionId: pulumi.Input<string>;
  /** Off: register nothing (the subscription is prepared by someone else). */
  readonly enabled: boolean;
}

/**
 * Registers Azure resource providers idempotently. azure-native has no resource for this, so it runs
 * `az provider register --wait` (a no-op when already registered) from the deploying machine; a
 * missing registration otherwise fails deep inside a deploy with MissingSubscriptionRegistration.
 * Nothing is unregistered on destroy: other workloads in the subscription may rely on them.
 */
export class ProviderRegistrations extends pulumi.ComponentResource {
  private readonly byNamespace: ReadonlyMap<string, local.Command>;

  constructor(name: string, args: ProviderRegistrationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("keyless:platform:ProviderRegistrations", name, {}, opts);
    const byNamespace = new Map<string, local.Command>();
    if (args.enabled) {
      for (const ns of [...new Set(args.namespaces)].sort()) {
        const register = pulumi.interpolate`az provider register --namespace ${ns} --subscription ${args.subscriptionId} --wait`;
        byNamespace.set(ns, new local.Command(`${name}-${ns.toLowerCase()}`, { create: register, update: register }, { parent: this }));
      }
    }
    this.byNamespace = byNamespace;
    this.registerOutputs({ namespaces: [...byNamespace.keys()] });
  }

  /** What a resource of these namespaces must wait for (nothing when registration is off). */
  public dependencies(...namespaces: string[]): pulumi.Resource[] {
    return namespaces.flatMap((ns) => {
      const r = this.byNamespace.get(ns);
      return r ? [r] : [];
    });
  }
}
