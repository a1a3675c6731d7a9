import * as pulumi from "@pulumi/pulumi";

// The fleet rows' floor: a program that registers exactly what a recorded run of the real program
// registered (the same types, names, parents, providers, dependencies and inputs, secrets still
// secret) with nothing else: no config validation, no components' logic, no Outputs between
// resources. Run under the same mock engine as the program (tools/bench/run-stack.ts --replay), it
// measures what the Pulumi SDK itself costs for that work, so the program's own overhead is the
// ratio above it.

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

const sigKey = "4dabf18193072939515e22adb298388d";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";
const resourceSig = "5cf8f73096256a8f31e491e813e4eb8e";

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
    if (r.type.startsWith("pulumi:providers:")) {
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
