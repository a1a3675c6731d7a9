import * as pulumi from "@pulumi/pulumi";
import * as local from "@pulumi/command/local";
import { namespacesOf } from "../lib/resource-providers";

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

  /**
   * A stack transformation that adds the registration of a resource's namespace (lib/resource-providers.ts
   * `namespacesOf`) to its dependsOn, for every resource registered after it is installed, whichever
   * component creates it. A component's dependsOn is not inherited by its children, so this is the one
   * place that makes e.g. Arc run commands wait for Microsoft.HybridCompute.
   *
   * An SDK-side transformation (`registerStackTransformation`), not the engine-side
   * `registerResourceTransform`: the latter runs inside the Pulumi engine, which Pulumi's mock monitor
   * does not emulate (node_modules/@pulumi/pulumi/runtime/mocks.js `registerStackTransform` only hands
   * it to the mocks), so the offline plan and the readiness rules would not see the edge it adds.
   * This one runs in the program itself: the plan records exactly the dependencies `pulumi up` sends.
   */
  public transformation(): pulumi.ResourceTransformation {
    return (args) => {
      if (args.type.startsWith("pulumi:providers:")) return undefined;
      const parentType = (args.opts.parent as { __pulumiType?: string } | undefined)?.__pulumiType;
      const lookup = namespacesOf(args.type, parentType);
      if (!("namespaces" in lookup)) return undefined; // the readiness rules report it
      const waits = this.dependencies(...lookup.namespaces);
      if (waits.length === 0) return undefined;
      return { props: args.props, opts: pulumi.mergeOptions(args.opts, { dependsOn: waits }) };
    };
  }
}
