import * as pulumi from "@pulumi/pulumi";
import { resourceSig, secretSig, sigKey } from "../plan/wire";

// The same-registrations floor (start-up and fleet rows): a program that registers exactly what a
// recorded run of the real program registered (the same types, names, parents, providers,
// dependencies and inputs, secrets still secret), each through its own SDK class (azure-native's,
// azuread's, @pulumi/command's, @pulumi/kubernetes's, so their declared outputs, aliases and
// defaults cost what they cost the program), and nothing else: no config validation, no components'
// logic, no Outputs flowing between resources, no invokes. Run under the same mock engine and loader
// as the program (tools/bench/run-stack.ts --replay), it measures what the SDKs themselves cost for
// that work, so the program's own overhead is the ratio above it.

/** One registration as the mock monitor received it (run-stack.ts --record-out). */
export interface RecordedRegistration {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** Parent URN ("" for the stack itself). */
  readonly parent: string;
  /** Provider reference "urn::id", or "". */
  readonly provider: string;
  /** Every URN the registration waits on. */
  readonly dependencies: readonly string[];
  readonly protect: boolean;
  readonly additionalSecretOutputs: readonly string[];
  /** Inputs in the wire format (secrets and resource references as signature objects). */
  readonly inputs: Record<string, unknown>;
}


/** Wire-format value back to a program value: secrets as pulumi.secret, resource references as their URN. */
export function fromWire(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[sigKey] === secretSig) return pulumi.secret(fromWire(o.value));
    if (o[sigKey] === resourceSig) return o.urn;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = fromWire(x);
    return out;
  }
  return v;
}

// The SDK's classes are abstract in its typings only; a subclass adds nothing at run time.
class Custom extends pulumi.CustomResource {}
class Provider extends pulumi.ProviderResource {}
class Component extends pulumi.ComponentResource {
  finish(): void {
    this.registerOutputs({});
  }
}

type ResourceClass = new (name: string, args: Record<string, unknown>, opts: pulumi.CustomResourceOptions) => pulumi.Resource;

/**
 * The SDK class that registers `type`, by the package's own subpath (never a package root that
 * loads every module; for azure-native the resource's own file), or undefined for a type without
 * one here (the replay then registers it as a plain CustomResource with the same token).
 */
export function sdkClassFor(type: string): ResourceClass | undefined {
  const [pkg, mod, name] = type.split(":");
  const load = (path: string, member: string): ResourceClass | undefined => {
    try {
      const m = require(path) as Record<string, unknown>;
      return typeof m[member] === "function" ? (m[member] as ResourceClass) : undefined;
    } catch {
      return undefined;
    }
  };
  if (pkg === "pulumi" && mod === "providers") {
    const provider: Record<string, string> = {
      "azure-native": "@pulumi/azure-native/provider",
      azuread: "@pulumi/azuread/provider",
      command: "@pulumi/command/provider",
      kubernetes: "@pulumi/kubernetes/provider",
    };
    return provider[name] ? load(provider[name], "Provider") : undefined;
  }
  // The resource's own file, as the program imports it (test/imports.test.ts): the module index
  // would load more than the program does and flatter the ratio.
  if (pkg === "azure-native" && /^[a-z0-9]+$/.test(mod) && /^[A-Z][A-Za-z0-9]*$/.test(name)) {
    return load(`@pulumi/azure-native/${mod}/${name[0].toLowerCase()}${name.slice(1)}`, name);
  }
  if (pkg === "command" && (mod === "remote" || mod === "local")) return load(`@pulumi/command/${mod}`, name);
  // azuread:index/<file>:<Class>, each class in its own file.
  if (pkg === "azuread" && /^index\/[A-Za-z0-9]+$/.test(mod)) return load(`@pulumi/azuread/${mod.slice("index/".length)}`, name);
  // kubernetes:<api group>/<version>:<Kind>; the SDK's folder is the group's first label (core/v1, apps/v1, rbac/v1).
  if (pkg === "kubernetes" && /^[a-z0-9.]+\/v[0-9a-z]+$/.test(mod)) return load(`@pulumi/kubernetes/${mod.split("/")[0].split(".")[0]}/${mod.split("/")[1]}`, name);
  return undefined;
}

/** Register every recorded resource in the recorded order (parents and dependencies come first). */
export function replay(records: readonly RecordedRegistration[]): void {
  const byUrn = new Map<string, pulumi.Resource>();
  const components: Component[] = [];
  const providerUrn = (ref: string) => (ref.lastIndexOf("::") < 0 ? ref : ref.slice(0, ref.lastIndexOf("::")));
  for (const r of records) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    const opts: pulumi.CustomResourceOptions = {
      parent: byUrn.get(r.parent),
      dependsOn: r.dependencies.map((u) => byUrn.get(u)).filter((x): x is pulumi.Resource => x !== undefined),
      protect: r.protect || undefined,
      additionalSecretOutputs: r.additionalSecretOutputs.length > 0 ? [...r.additionalSecretOutputs] : undefined,
      provider: r.provider ? (byUrn.get(providerUrn(r.provider)) as pulumi.ProviderResource | undefined) : undefined,
    };
    const inputs = fromWire(r.inputs) as pulumi.Inputs;
    let res: pulumi.Resource;
    const sdkClass = r.custom ? sdkClassFor(r.type) : undefined;
    if (sdkClass) {
      res = new sdkClass(r.name, inputs as Record<string, unknown>, opts);
    } else if (r.type.startsWith("pulumi:providers:")) {
      res = new Provider(r.type.slice("pulumi:providers:".length), r.name, inputs, opts);
    } else if (r.custom) {
      res = new Custom(r.type, r.name, inputs, opts);
    } else {
      const c = new Component(r.type, r.name, inputs, opts);
      components.push(c);
      res = c;
    }
    byUrn.set(r.urn, res);
  }
  for (const c of components) c.finish();
}
