import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { Matcher } from "./matcher";
import { mockDeployerObjectId, mocks, resetMocks, setPreviewUnknowns, setSignedInObjectId, unknownSentinel } from "./mocks";
import { resourceSig, secretSig, sigKey } from "./wire";

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
  /** Per input key, the URNs its value came from (what the engine calls property dependencies). */
  readonly propertyDependencies?: Record<string, string[]>;
  /** A replacement deletes the old resource first (the deleteBeforeReplace option); the engine's default creates the new one first. */
  readonly deleteBeforeReplace?: boolean;
  /** Inputs whose change replaces the resource instead of updating it (the replaceOnChanges option). */
  readonly replaceOnChanges?: string[];
  /** URNs whose replacement replaces this resource too (the replaceWith option). */
  readonly replaceWith?: string[];
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
  /**
   * true: made as `pulumi preview` sees a new stack, values only Azure computes are UNKNOWN.
   * false: the mocks' realistic values stand in for them (what tests assert on).
   */
  readonly previewUnknowns: boolean;
  /** By URN: inputs the engine keeps from state on updates (the ignoreChanges option); only resources that set it. */
  readonly ignoreChanges?: Readonly<Record<string, readonly string[]>>;
  /** Object id of the stack's deployer in this plan (its pinned keyless:deployerObjectId, else the mock signed-in one). */
  readonly deployerObjectId?: string;
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
  /**
   * At preview, leave every value only Azure computes (ids, principal and client ids, endpoints,
   * run command results) unknown, as the real engine does for a new stack, so the plan shows
   * UNKNOWN instead of a mock value. Default false: tests assert on the mocks' realistic values.
   */
  readonly previewUnknowns?: boolean;
  /**
   * Who the run is signed in as. Default: the stack's keyless:deployerObjectId when set (offline
   * nobody is signed in, so the plan shows the stack as its own deployer runs it), else the mock id.
   */
  readonly signedInObjectId?: string;
}

/** The program stopped itself (pulumi.RunError, e.g. invalid config): message only, no stack. */
export class ProgramError extends Error {}

export const SECRET = "[secret]";
/** What the plan shows for a value the engine only knows after `pulumi up` (text and --json alike). */
export const UNKNOWN = "(known after apply)";

/** Where the secret values of a run are collected: secret leaves only, never whole objects. */
interface SecretSets {
  /** Values that are secret: secret config leaves, secret scalars on the wire. */
  readonly secrets: Set<string>;
  /** String leaves of non-secret config: public, even inside an object that is secret as a whole. */
  readonly public: Set<string>;
}

/**
 * Turn a wire-format value into plain JSON: secrets to "[secret]", resource references to URNs,
 * the engine's unknown sentinel to UNKNOWN. A secret scalar joins the secret set; an object that is
 * secret as a whole (an SSH connection holding a key) is shown as "[secret]", but only its leaves
 * that are not public config join the set, so a host or user name is not hidden elsewhere.
 */
function clean(v: unknown, sets: SecretSets): unknown {
  if (typeof v === "string") return v === unknownSentinel || v.includes(unknownSentinel) ? UNKNOWN : v;
  if (Array.isArray(v)) return v.map((x) => clean(x, sets));
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[sigKey] === secretSig) {
      if (typeof o.value === "string") {
        if (o.value !== unknownSentinel) sets.secrets.add(o.value);
      } else collectLeaves(o.value, (s) => !sets.public.has(s) && s !== unknownSentinel && sets.secrets.add(s));
      return SECRET;
    }
    if (o[sigKey] === resourceSig) return o.urn;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = clean(o[k], sets);
    return out;
  }
  return v;
}

function collectLeaves(v: unknown, add: (s: string) => unknown): void {
  if (typeof v === "string") {
    if (v.length > 0) add(v);
  } else if (Array.isArray(v)) v.forEach((x) => collectLeaves(x, add));
  else if (v !== null && typeof v === "object") Object.values(v).forEach((x) => collectLeaves(x, add));
}

/** String leaves of a config value (JSON objects and lists are walked; a plain string is one leaf). */
function configLeaves(raw: string, add: (s: string) => unknown): void {
  let parsed: unknown = raw;
  if (/^\s*[[{]/.test(raw)) {
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = raw;
    }
  }
  collectLeaves(parsed, add);
}

/** Replace every occurrence of a secret in every string: one pass per string (tools/plan/matcher.ts). */
function redact(v: unknown, secrets: Matcher): unknown {
  if (typeof v === "string") return v === SECRET ? v : secrets.replace(v, SECRET);
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
  propertyDependencies: Record<string, string[]>;
  ignoreChanges: string[];
  deleteBeforeReplace: boolean;
  replaceOnChanges: string[];
  replaceWith: string[];
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
    resetMocks();
    setPreviewUnknowns(options.previewUnknowns === true);
    // Offline nobody is signed in: the engine plays the CLI's part, so it answers as the deployer
    // the stack names, read from the config it hands the program, as `pulumi up` by that identity would.
    const pinned = options.values["keyless:deployerObjectId"];
    setSignedInObjectId(options.signedInObjectId ?? pinned);
    await pulumi.runtime.setMocks(mocks, options.project, options.stack, options.preview ?? true);
    const monitor = settings.getMonitor() as any;
    // The SDK's mock builds a child's URN from its parent's last type only; the engine uses the
    // whole chain. Use the engine's form so URNs in the plan are the ones `pulumi up` would show.
    // The root stack's type is left out of its children's (pulumi/pulumi sdk/go/common/resource/urn.go,
    // NewURN: `parentType != RootStackType`), so `pulumi up --replace` and `state delete` find them.
    monitor.newUrn = (parent: string, type: string, name: string) => {
      const parentType = parent ? (parent.split("::")[2] ?? "") : "";
      const qualified = parentType !== "" && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
      return `urn:pulumi:${options.stack}::${options.project}::${qualified}::${name}`;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) => {
      const type: string = req.getType();
      const name: string = req.getName();
      const parent: string = req.getParent();
      const deps = new Set<string>(req.getDependenciesList());
      const propertyDependencies: Record<string, string[]> = {};
      for (const [k, v] of req.getPropertydependenciesMap().entries()) {
        const urns = [...new Set<string>(v.getUrnsList())].sort();
        for (const u of urns) deps.add(u);
        if (urns.length > 0) propertyDependencies[k] = urns;
      }
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
        deleteBeforeReplace: req.getDeletebeforereplace?.() === true,
        replaceOnChanges: req.getReplaceonchangesList?.() ?? [],
        replaceWith: req.getReplaceWithList?.() ?? [],
        propertyDependencies: Object.fromEntries(Object.keys(propertyDependencies).sort().map((k) => [k, propertyDependencies[k]])),
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
        // index.ts's default export is the program, and what it returns are the stack outputs;
        // otherwise the named exports are. Under `pulumi up`, tools/runtime/main.cjs hands that
        // function to Pulumi's runtime as the module's export, which the runtime calls
        // (@pulumi/pulumi cmd/run/run.js; test/runtime.test.ts runs that path).
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

    const sets: SecretSets = { secrets: new Set(), public: new Set() };
    // Secret config leaves are hidden wherever they surface, whatever the program did with them;
    // leaves of non-secret config are public (a host name, an SSH user) and never join the set.
    const secretKeys = new Set(options.secretKeys);
    for (const [key, raw] of Object.entries(options.values)) {
      if (secretKeys.has(key)) configLeaves(raw, (s) => sets.secrets.add(s));
      else configLeaves(raw, (s) => sets.public.add(s));
    }
    const state = monitor.getRegisteredResources() as Map<string, { state: unknown }>;
    // Inputs first: cleaning them collects every secret value, which the outputs must then hide.
    const inputs = recorded.map((r) => clean(r.rawInputs, sets) as Record<string, unknown>);
    // A component's outputs are what it registered (registerOutputs), as plain values; the SDK's mock
    // keeps them as the raw protobuf Struct in its state.
    const cleanedOutputs = recorded.map((r) => clean((r.custom ? state.get(r.urn)?.state : undefined) ?? rawOutputs.get(r.urn) ?? state.get(r.urn)?.state ?? {}, sets) as Record<string, unknown>);
    const stackUrn = `urn:pulumi:${options.stack}::${options.project}::pulumi:pulumi:Stack::${options.project}-${options.stack}`;
    const stackOutputs = clean(rawOutputs.get(stackUrn) ?? {}, sets);
    sets.secrets.delete(SECRET);
    sets.secrets.delete(UNKNOWN);
    const secrets = new Matcher(sets.secrets);
    const resources: PlannedResource[] = recorded.map((r, i) => {
      const { rawInputs: _raw, secretOutputs: _secretOutputs, ignoreChanges: _ignoreChanges, deleteBeforeReplace, replaceOnChanges, replaceWith, propertyDependencies, ...rest } = r;
      const outputs = redact(cleanedOutputs[i], secrets) as Record<string, unknown>;
      for (const k of Object.keys(outputs)) if (r.secretOutputs.includes(k) || inputs[i][k] === SECRET) outputs[k] = SECRET;
      return {
        ...rest,
        inputs: redact(inputs[i], secrets) as Record<string, unknown>,
        outputs,
        propertyDependencies,
        deleteBeforeReplace,
        replaceOnChanges: [...replaceOnChanges].sort(),
        replaceWith: [...replaceWith].sort(),
      };
    });
    const outputs = redact(stackOutputs, secrets) as Record<string, unknown>;
    resources.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    const ignoreChanges = Object.fromEntries(recorded.filter((r) => r.ignoreChanges.length > 0).map((r) => [r.urn, [...r.ignoreChanges].sort()]));
    const deployerObjectId = pinned ?? options.signedInObjectId ?? mockDeployerObjectId;
    return { project: options.project, stack: options.stack, resources, outputs, warnings, previewUnknowns: options.previewUnknowns === true, ignoreChanges, deployerObjectId };
  } finally {
    console.warn = originalWarn;
    setPreviewUnknowns(false);
    setSignedInObjectId(undefined);
    running = false;
  }
}
