import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { mocks } from "./mocks";

// Runs the real program under Pulumi's mock engine and records what the Pulumi engine would be
// asked to do: every registration with its parent, provider, protect flag, dependencies, inputs
// and (mocked) outputs. Shared by the offline plan (tools/plan/cli.ts) and the tests.

/** One resource as `pulumi up` would register it. */
export interface PlannedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly parent: string;
  readonly provider: string;
  readonly protect: boolean;
  /** URNs this resource waits on: explicit dependsOn and those carried by its inputs. */
  readonly dependencies: string[];
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
}

export interface Plan {
  readonly project: string;
  readonly stack: string;
  /** Sorted by URN, so two runs print the same bytes. */
  readonly resources: PlannedResource[];
  /** Stack outputs; secrets as "[secret]". */
  readonly outputs: Record<string, unknown>;
  /** Warnings the program logged (pulumi.log.warn). */
  readonly warnings: string[];
  /** By URN: inputs the engine keeps from state on updates (the ignoreChanges option); only resources that set it. */
  readonly ignoreChanges?: Readonly<Record<string, readonly string[]>>;
}

export interface RunOptions {
  readonly project: string;
  readonly stack: string;
  /** "namespace:key" -> value, as the Pulumi CLI passes config. */
  readonly values: Record<string, string>;
  /** Keys stored as secrets. */
  readonly secretKeys: readonly string[];
  /** Imports the program (fresh each run) and returns its exports. */
  readonly load: () => Promise<Record<string, unknown>>;
  /** Run as `pulumi preview` (default) or as `pulumi up`. */
  readonly preview?: boolean;
}

/** The program stopped itself (pulumi.RunError, e.g. invalid config): message only, no stack. */
export class ProgramError extends Error {}

export const SECRET = "[secret]";
const secretSig = "1b47061264138c4ac30d75fd1eb44270";
const resourceSig = "5cf8f73096256a8f31e491e813e4eb8e";
const sigKey = "4dabf18193072939515e22adb298388d";

/** Turn a wire-format value into plain JSON: secrets to "[secret]", resource references to URNs. */
function clean(v: unknown, secrets: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => clean(x, secrets));
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[sigKey] === secretSig) {
      collectStrings(o.value, secrets);
      return SECRET;
    }
    if (o[sigKey] === resourceSig) return o.urn;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = clean(o[k], secrets);
    return out;
  }
  return v;
}

function collectStrings(v: unknown, into: Set<string>): void {
  if (typeof v === "string" && v.length > 0) into.add(v);
  else if (Array.isArray(v)) v.forEach((x) => collectStrings(x, into));
  else if (v !== null && typeof v === "object") Object.values(v).forEach((x) => collectStrings(x, into));
}

/** Hide any string that is, or contains, a secret value. */
function redact(v: unknown, secrets: Set<string>): unknown {
  if (typeof v === "string") return [...secrets].some((s) => v.includes(s)) ? SECRET : v;
  if (Array.isArray(v)) return v.map((x) => redact(x, secrets));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = redact((v as Record<string, unknown>)[k], secrets);
    return out;
  }
  return v;
}

function providerUrn(ref: string): string {
  const i = ref.lastIndexOf("::");
  return i < 0 ? ref : ref.slice(0, i);
}

interface Recorded {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  provider: string;
  protect: boolean;
  dependencies: string[];
  rawInputs: unknown;
  secretOutputs: string[];
  ignoreChanges: string[];
}

let running = false;

/** Run the program once under mocks and return its plan. Runs are serialized: the SDK is global. */
export async function runProgram(options: RunOptions): Promise<Plan> {
  if (running) throw new Error("runProgram is already running in this process");
  running = true;
  const recorded: Recorded[] = [];
  const rawOutputs = new Map<string, unknown>();
  const warnings: string[] = [];
  const originalWarn = console.warn;
  try {
    pulumi.runtime.setAllConfig(options.values, [...options.secretKeys]);
    await pulumi.runtime.setMocks(mocks, options.project, options.stack, options.preview ?? true);
    const monitor = settings.getMonitor() as any;
    // The SDK's mock builds a child's URN from its parent's last type only; the engine uses the
    // whole chain. Use the engine's form so URNs in the plan are the ones `pulumi up` would show.
    monitor.newUrn = (parent: string, type: string, name: string) => {
      const qualified = parent ? `${parent.split("::")[2]}$${type}` : type;
      return `urn:pulumi:${options.stack}::${options.project}::${qualified}::${name}`;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) => {
      const type: string = req.getType();
      const name: string = req.getName();
      const parent: string = req.getParent();
      const deps = new Set<string>(req.getDependenciesList());
      for (const [, v] of req.getPropertydependenciesMap().entries()) for (const u of v.getUrnsList()) deps.add(u);
      recorded.push({
        urn: monitor.newUrn(parent, type, name),
        type,
        name,
        custom: req.getCustom(),
        parent,
        provider: req.getProvider() ? providerUrn(req.getProvider()) : "",
        protect: req.getProtect() === true,
        dependencies: [...deps].sort(),
        rawInputs: req.getObject()?.toJavaScript() ?? {},
        secretOutputs: req.getAdditionalsecretoutputsList(),
        ignoreChanges: req.getIgnorechangesList?.() ?? [],
      });
      return register(req, callback);
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: (err: unknown, res: any) => void) => {
      rawOutputs.set(req.getUrn(), req.getOutputs()?.toJavaScript() ?? {});
      return registerOutputs(req, callback);
    };
    console.warn = (...args: unknown[]) => {
      const line = args.map(String).join(" ");
      if (line.startsWith("warning: ")) warnings.push(line.replace(/^warning: (\[runtime\] )?/, ""));
      else originalWarn(...args);
    };

    try {
      await pulumi.runtime.runInPulumiStack(async () => {
        const exports = await options.load();
        // As the Pulumi runtime does (cmd/run/run.js): a default export that is a function is the
        // program, and what it returns are the stack outputs; otherwise the named exports are.
        const main = (exports as { default?: unknown }).default;
        if (typeof main === "function") return (await main()) as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(exports)) if (k !== "default" && k !== "__esModule") out[k] = v;
        return out;
      });
      // Not in the typings, but exported: waits for every outstanding registration to finish.
      await (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    } catch (err) {
      if (err instanceof pulumi.RunError || (err as Error)?.name === "RunError") throw new ProgramError((err as Error).message);
      throw err;
    }

    const secrets = new Set<string>();
    // Values of secret config keys are hidden wherever they surface, whatever the program did with them.
    for (const key of options.secretKeys) collectStrings(options.values[key], secrets);
    const state = monitor.getRegisteredResources() as Map<string, { state: unknown }>;
    // Inputs first: cleaning them collects every secret value, which the outputs must then hide.
    const inputs = recorded.map((r) => clean(r.rawInputs, secrets) as Record<string, unknown>);
    const resources: PlannedResource[] = recorded.map((r, i) => {
      const { rawInputs: _raw, secretOutputs: _secretOutputs, ignoreChanges: _ignoreChanges, ...rest } = r;
      const raw = state.get(r.urn)?.state ?? rawOutputs.get(r.urn) ?? {};
      const outputs = redact(clean(raw, secrets), secrets) as Record<string, unknown>;
      for (const k of Object.keys(outputs)) if (r.secretOutputs.includes(k) || inputs[i][k] === SECRET) outputs[k] = SECRET;
      return { ...rest, inputs: redact(inputs[i], secrets) as Record<string, unknown>, outputs };
    });
    const stackUrn = `urn:pulumi:${options.stack}::${options.project}::pulumi:pulumi:Stack::${options.project}-${options.stack}`;
    const outputs = redact(clean(rawOutputs.get(stackUrn) ?? {}, secrets), secrets) as Record<string, unknown>;
    resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    const ignoreChanges = Object.fromEntries(recorded.filter((r) => r.ignoreChanges.length > 0).map((r) => [r.urn, [...r.ignoreChanges].sort()]));
    return { project: options.project, stack: options.stack, resources, outputs, warnings, ignoreChanges };
  } finally {
    console.warn = originalWarn;
    running = false;
  }
}
