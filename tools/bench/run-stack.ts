import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as mocks from "@pulumi/pulumi/runtime/mocks";
import { ProgramError, runProgram } from "../plan/engine";
import type { GraphNode } from "./critical-path";
import type { RecordedRegistration } from "./replay";

// One benchmark sample: the real program for one stack under the offline plan's mock engine,
// without rendering. tools/bench/cli.ts runs it in a fresh process per sample with the loader
// Pulumi.yaml gives `pulumi up`:
//   node --require ./tools/runtime/register.cjs tools/bench/run-stack.ts
// Config arrives as JSON in KEYLESS_BENCH_CONFIG ({project, stack, values, secretKeys}), the way
// the Pulumi CLI hands config to a program (an environment variable), so no YAML parser is loaded
// here. Prints one JSON line (SampleResult); --graph-out PATH also writes the dependency graph,
// --record-out PATH every registration as the mock engine received it (tools/bench/replay.ts), and
// --replay PATH runs the fleet floor instead of the program: the recorded registrations, replayed.

/** What one sample prints. */
export interface SampleResult {
  readonly ok: boolean;
  /** Every registration, the stack and components included. */
  readonly resources: number;
  /** Custom resources only (what the providers would create). */
  readonly custom: number;
  /** From process start (performance.timeOrigin) to the last registration settled. */
  readonly inProcessMs: number;
  /** process.resourceUsage().maxRSS, in KiB. */
  readonly maxRssKb: number;
  /** The program's own error (e.g. invalid config) when ok is false. */
  readonly error?: string;
}

/** What the parent passes in KEYLESS_BENCH_CONFIG. */
export interface SampleConfig {
  readonly project: string;
  readonly stack: string;
  readonly values: Record<string, string>;
  readonly secretKeys: string[];
}

/** The program next to this file: index.ts here, bin/index.js if this file was compiled into bin/. */
const program = resolve(__dirname, "../../index");

function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, "Pulumi.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no Pulumi.yaml above ${from}`);
  }
}

async function readConfig(): Promise<SampleConfig> {
  const raw = process.env.KEYLESS_BENCH_CONFIG;
  if (raw) return JSON.parse(raw) as SampleConfig;
  // By hand: node --require ./tools/runtime/register.cjs tools/bench/run-stack.ts [stack]
  const { readProject, readStackConfig } = await import("../plan/stack-file");
  const root = projectRoot(__dirname);
  const stack = process.argv[2] ?? "dev";
  const project = readProject(resolve(root, "Pulumi.yaml"));
  return { project: project.name, stack, ...readStackConfig(resolve(root, `Pulumi.${stack}.yaml`), project.defaults) };
}

/**
 * Record which registrations each resource reads inputs from (property dependencies), apart from
 * ordering-only dependsOn. Wraps the mock monitor's own method, beneath the wrapper runProgram
 * installs, so the URNs are the engine-form ones runProgram assigns.
 */
function recordPropertyDependencies(records?: RecordedRegistration[]): Map<string, string[]> {
  const byUrn = new Map<string, string[]>();
  const proto = mocks.MockMonitor.prototype as unknown as { registerResource(req: any, cb: unknown): unknown; newUrn(p: string, t: string, n: string): string };
  const original = proto.registerResource;
  proto.registerResource = function (this: typeof proto, req: any, cb: unknown) {
    const deps = new Set<string>();
    for (const [, v] of req.getPropertydependenciesMap().entries()) for (const u of v.getUrnsList()) deps.add(u);
    const urn = this.newUrn(req.getParent(), req.getType(), req.getName());
    byUrn.set(urn, [...deps].sort());
    records?.push({
      urn,
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      parent: req.getParent(),
      provider: req.getProvider(),
      dependencies: [...new Set<string>([...req.getDependenciesList(), ...deps])],
      protect: req.getProtect() === true,
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
      inputs: req.getObject()?.toJavaScript() ?? {},
    });
    return original.call(this, req, cb);
  };
  return byUrn;
}

async function main(): Promise<void> {
  const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const graphOut = flag("--graph-out");
  const recordOut = flag("--record-out");
  const replayFrom = flag("--replay");
  const config = await readConfig();
  const records: RecordedRegistration[] | undefined = recordOut ? [] : undefined;
  const propertyDeps = recordPropertyDependencies(records);
  const load = replayFrom
    ? async () => {
        const { replay } = await import("./replay");
        let recorded: RecordedRegistration[] | undefined = JSON.parse(readFileSync(replayFrom, "utf8")) as RecordedRegistration[];
        return {
          default: async () => {
            // Let the recording go once it is replayed: the program holds no such copy, so the
            // floor's peak memory must not either.
            const records = recorded ?? [];
            recorded = undefined;
            replay(records);
          },
        };
      }
    : () => import(program);
  const print = (r: SampleResult) => process.stdout.write(`${JSON.stringify(r)}\n`);
  const usage = () => ({ inProcessMs: Math.round(performance.now()), maxRssKb: process.resourceUsage().maxRSS });
  try {
    const plan = await runProgram({ ...config, load });
    if (recordOut) writeFileSync(recordOut, JSON.stringify(records));
    if (graphOut) {
      const graph: GraphNode[] = plan.resources.map(({ urn, type, custom, parent, dependencies }) => ({
        urn,
        type,
        custom,
        parent,
        dependencies,
        propertyDependencies: propertyDeps.get(urn) ?? [],
      }));
      writeFileSync(graphOut, JSON.stringify(graph));
    }
    print({ ok: true, resources: plan.resources.length, custom: plan.resources.filter((r) => r.custom).length, ...usage() });
  } catch (err) {
    if (!(err instanceof ProgramError)) throw err;
    print({ ok: false, resources: 0, custom: 0, ...usage(), error: err.message });
    // Exit now, as the plan CLI does: the SDK leaves the failed stack's promises rejected behind.
    process.exit(3);
  }
}

main().catch((err) => {
  process.stderr.write(`run-stack: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
