import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readProject, readStackConfig } from "../plan/stack-file";
import { defaultParallel, type DeployModel, deployModel, type GraphNode } from "./critical-path";
import { provisionSeconds } from "./provision-times";
import type { SampleConfig, SampleResult } from "./run-stack";
import { scaleStack } from "./stacks";
import { growth, type Growth, pairedRatios, roundOrder, type Summary, summarize, unknownSection } from "./stats";

// npm run bench [-- --runs N] : start-up, type check and fleet scale, each against a floor taken in
// the same run, plus the modeled deploy time. Every ratio comes from interleaved pairs (A, B, B, A,
// A, B, ...; each pair back to back, each sample a fresh process) under the same cache conditions,
// reported as the median with min and max. Prints a table, then one JSON line. Targets are
// reported, never asserted: a shared machine makes timings noisy. docs/performance.md explains it.

const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(`bench: needs Node.js 22 or later (this is ${process.version}); install the version in .nvmrc (Node 24 LTS).\n`);
  process.exit(2);
}

const root = resolve(__dirname, "../..");
const node = process.execPath;
const register = resolve(root, "tools/runtime/register.cjs");
const runStack = resolve(root, "tools/bench/run-stack.ts");
// What `npm run typecheck` runs: TypeScript 7 with one checker per CPU (tools/typecheck.cjs).
const tsc = resolve(root, "tools/typecheck.cjs");
const project = readProject(resolve(root, "Pulumi.yaml"));

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    sizes: { type: "string", default: "0,50,150,500" },
    authorizations: { type: "string", default: "50" },
    "deploy-cpus": { type: "string", default: "4" },
    "skip-fleet": { type: "boolean", default: false },
    "skip-typecheck": { type: "boolean", default: false },
  },
  allowPositionals: false,
});
function whole(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench: --${flag} ${value} must be a whole number >= ${min}\n`);
    process.exit(2);
  }
  return n;
}
const runs = whole("runs", args.runs, 1);
const sizes = [...new Set((args.sizes ?? "").split(",").map((s) => whole("sizes", s.trim(), 0)))].sort((a, b) => a - b);
const authorizations = whole("authorizations", args.authorizations, 1);
const deployCpus = whole("deploy-cpus", args["deploy-cpus"], 1);
const work = mkdtempSync(join(tmpdir(), "keyless-bench-"));
const started = new Date();
const loadAtStart = loadavg();
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

interface Sample {
  readonly ms: number;
  readonly rssKb: number;
}

/** One fresh process, wall time from spawn to exit; its last stdout line must be JSON with maxRssKb. */
function sample(argv: string[], env: Record<string, string> = {}, what = argv.join(" ")): Sample & { result: SampleResult } {
  const start = performance.now();
  const r = spawnSync(node, argv, { cwd: root, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 });
  const ms = performance.now() - start;
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let result: SampleResult;
  try {
    result = JSON.parse(line) as SampleResult;
  } catch {
    throw new Error(`${what}: expected a JSON line, got status ${r.status}:\n${r.stdout}\n${r.stderr}`);
  }
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${result.error ?? r.stderr}`);
  return { ms, rssKb: result.maxRssKb, result };
}

/** A command that prints nothing useful: time only. */
function timedOnly(argv: string[], what: string): Sample {
  const start = performance.now();
  const r = spawnSync(node, argv, { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return { ms, rssKb: 0 };
}

interface Paired {
  readonly subject: Summary;
  readonly floor: Summary;
  /** subject / floor per pair. */
  readonly ratio: Summary;
  readonly subjectRssMb: Summary;
  readonly floorRssMb: Summary;
  readonly rssRatio: Summary;
  readonly samples: { subjectMs: number[]; floorMs: number[] };
}

/**
 * `runs` interleaved rounds over the sides (each round runs every side once, the first side
 * rotating, each sample a fresh process); `before[i]` runs before each sample of side i (e.g. to
 * empty a cache). Returns each side's samples, in round order.
 */
function rounds(sides: ReadonlyArray<() => Sample>, before: ReadonlyArray<(() => void) | undefined> = []): Sample[][] {
  const out: Sample[][] = sides.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const side of roundOrder(i, sides.length)) {
      before[side]?.();
      out[side].push(sides[side]());
    }
  }
  return out;
}

/** Subject and floor samples taken in the same rounds, as per-round ratios. */
function paired(s: readonly Sample[], f: readonly Sample[]): Paired {
  const ms = (x: readonly Sample[]) => x.map((v) => v.ms);
  const mb = (x: readonly Sample[]) => x.map((v) => v.rssKb / 1024);
  const hasRss = s.every((v) => v.rssKb > 0) && f.every((v) => v.rssKb > 0);
  return {
    subject: summarize(ms(s)),
    floor: summarize(ms(f)),
    ratio: summarize(pairedRatios(ms(s), ms(f))),
    subjectRssMb: summarize(hasRss ? mb(s) : [0]),
    floorRssMb: summarize(hasRss ? mb(f) : [0]),
    rssRatio: summarize(hasRss ? pairedRatios(mb(s), mb(f)) : [0]),
    samples: { subjectMs: ms(s).map(Math.round), floorMs: ms(f).map(Math.round) },
  };
}

/** `runs` interleaved pairs of subject and floor (A, B, then B, A, ...). */
function pairs(subject: () => Sample, floor: () => Sample, before?: { subject?: () => void; floor?: () => void }): Paired {
  const [s, f] = rounds([subject, floor], [before?.subject, before?.floor]);
  return paired(s, f);
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const range = (s: Summary, f: (n: number) => string) => `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
const x = (n: number) => `${n.toFixed(2)}x`;
const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
const rows: string[][] = [];
const row = (...cells: string[]) => rows.push(cells);
const roundSummary = (s: Summary, digits: number) => ({ median: round(s.median, digits), min: round(s.min, digits), max: round(s.max, digits), n: s.n });
const roundPaired = (p: Paired) => ({
  ms: roundSummary(p.subject, 0),
  floorMs: roundSummary(p.floor, 0),
  ratio: roundSummary(p.ratio, 3),
  rssMb: roundSummary(p.subjectRssMb, 0),
  floorRssMb: roundSummary(p.floorRssMb, 0),
  rssRatio: roundSummary(p.rssRatio, 3),
  samples: p.samples,
});

function stackConfig(stack: string, file: string): SampleConfig {
  return { project: project.name, stack, ...readStackConfig(file, project.defaults) };
}
const cache = join(work, "cache"); // the loader's caches, this run's own
const withConfig = (config: SampleConfig, extra: Record<string, string> = {}) => ({ KEYLESS_BENCH_CONFIG: JSON.stringify(config), KEYLESS_CACHE_DIR: cache, ...extra });

// 1. Start-up: the dev stack under the loader Pulumi.yaml gives `pulumi up`, against
// require("@pulumi/pulumi") alone, and against the same registrations replayed through the SDK's
// own classes (what any program that registers these resources must spend), in rounds of three
// with both caches warm; then program and require() again with Node's compile cache off on both.
log(`${runs} round(s) per row; start-up...`);
const dev = stackConfig("dev", resolve(root, "Pulumi.dev.yaml"));
const printRss = 'process.stdout.write(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }))';
const floorWarm = ["-e", `require("node:module").enableCompileCache(${JSON.stringify(join(work, "floor-v8"))}); require("@pulumi/pulumi"); ${printRss}`];
const floorPlain = ["-e", `require("@pulumi/pulumi"); ${printRss}`];
const program = ["--require", register, runStack];
const devRecord = join(work, "dev.registrations.json");
const devSample = (extra: Record<string, string> = {}) => sample(program, withConfig(dev, extra), "dev stack");
// Fills the transpile and compile caches, as the first run after a clone does, and records the
// registrations the replay floor registers again.
const first = sample([...program, "--record-out", devRecord], withConfig(dev), "dev stack").result;
const devReplay = () => {
  const r = sample([...program, "--replay", devRecord], withConfig(dev), "dev replay");
  if (r.result.resources !== first.resources) throw new Error(`dev replay registered ${r.result.resources} resources, the program ${first.resources}`);
  return r;
};
devReplay(); // fills the caches of the replay's own modules
sample(floorWarm, {}, "floor"); // fills the floor's compile cache
const [startupProgram, startupReplay, startupRequire] = rounds([() => devSample(), devReplay, () => sample(floorWarm, {}, "floor")]);
const startup = paired(startupProgram, startupRequire);
const startupReplayFloor = paired(startupReplay, startupRequire);
const startupOverReplay = paired(startupProgram, startupReplay);
const noCache = { NODE_DISABLE_COMPILE_CACHE: "1" };
const startupNoCompileCache = pairs(() => devSample(noCache), () => sample(floorPlain, {}, "floor"));
row("start-up: dev stack vs require(\"@pulumi/pulumi\"), compile cache warm on both", range(startup.subject, sec), range(startup.floor, sec), range(startup.ratio, x), `${first.resources} registrations; target <= 1.50x: ${verdict(startup.ratio.median <= 1.5)}`);
row("start-up: the same registrations replayed vs require(\"@pulumi/pulumi\")", range(startupReplayFloor.subject, sec), range(startupReplayFloor.floor, sec), range(startupReplayFloor.ratio, x), "the SDK's own cost for this stack's registrations: no program registering them starts faster");
row("start-up: dev stack vs the same registrations replayed", range(startupOverReplay.subject, sec), range(startupOverReplay.floor, sec), range(startupOverReplay.ratio, x), "what the program adds: its modules, config validation, components, Outputs between resources");
row("start-up, compile cache off on both", range(startupNoCompileCache.subject, sec), range(startupNoCompileCache.floor, sec), range(startupNoCompileCache.ratio, x), "NODE_DISABLE_COMPILE_CACHE=1 on both sides");

// 2. Type check: the same compiler and command on both sides (`tsc --build`, what `npm run
// typecheck` runs), the project against a one-line program importing one azure-native subpath.
// Every subpath's typings pull in azure-native's shared types (input.d.ts, output.d.ts: ~20 MB), so
// no program on azure-native 3 checks faster. Cold: no build info. Warm: build info present and
// nothing changed, so --build only compares every input file with it. Edited: one file's text
// changed since the last check (a component's body on one side, the one-line program on the other).
interface TypecheckRows {
  readonly cold: Paired;
  readonly warm: Paired;
  readonly edited: Paired;
}
let typecheck: TypecheckRows | undefined;
if (!args["skip-typecheck"]) {
  log("type check...");
  // Each side's own tsconfig under .cache/ (its include and options are the repo's, through
  // extends), with its build info in this run's work directory, never the user's.
  const dirs = { subject: resolve(root, ".cache/bench-typecheck-project"), floor: resolve(root, ".cache/bench-typecheck-floor") };
  const info = { subject: join(work, "project.tsbuildinfo"), floor: join(work, "floor.tsbuildinfo") };
  mkdirSync(dirs.subject, { recursive: true });
  mkdirSync(dirs.floor, { recursive: true });
  const floorSource = 'import * as resources from "@pulumi/azure-native/resources";\nexport const group = resources.ResourceGroup;\n';
  writeFileSync(join(dirs.floor, "floor.ts"), floorSource);
  writeFileSync(join(dirs.floor, "tsconfig.json"), JSON.stringify({ extends: "../../tsconfig.json", compilerOptions: { tsBuildInfoFile: info.floor }, include: ["floor.ts"] }));
  // rootDir: TypeScript 7 takes the config's own directory otherwise, and the project's files are above it.
  writeFileSync(join(dirs.subject, "tsconfig.json"), JSON.stringify({ extends: "../../tsconfig.json", compilerOptions: { rootDir: "../..", tsBuildInfoFile: info.subject } }));
  const check = (dir: string) => () => timedOnly([tsc, "--build", join(dir, "tsconfig.json")], `tsc --build ${dir}`);
  const subject = check(dirs.subject);
  const floor = check(dirs.floor);
  const cold = pairs(subject, floor, { subject: () => rmSync(info.subject, { force: true }), floor: () => rmSync(info.floor, { force: true }) });
  subject();
  floor();
  const warm = pairs(subject, floor);
  // The edited file gets a new last line before each sample and its own text back at the end.
  const editedFile = resolve(root, "components/role-assignment.ts");
  const original = readFileSync(editedFile, "utf8");
  let edits = 0;
  let edited: Paired;
  try {
    edited = pairs(subject, floor, {
      subject: () => writeFileSync(editedFile, `${original}// bench edit ${++edits}\n`),
      floor: () => writeFileSync(join(dirs.floor, "floor.ts"), `${floorSource}// bench edit ${++edits}\n`),
    });
  } finally {
    writeFileSync(editedFile, original);
  }
  rmSync(dirs.subject, { recursive: true, force: true });
  rmSync(dirs.floor, { recursive: true, force: true });
  typecheck = { cold, warm, edited };
  const version = (JSON.parse(readFileSync(resolve(root, "node_modules/typescript7/package.json"), "utf8")) as { version: string }).version;
  for (const [label, p] of [["cold (no build info)", cold], ["warm (build info present, nothing changed)", warm], ["after editing one file", edited]] as const) {
    row(`type check ${label}: tsc ${version} --build, project vs one azure-native import`, range(p.subject, sec), range(p.floor, sec), range(p.ratio, x), `target < 1.60x: ${verdict(p.ratio.median < 1.6)}`);
  }
}

// 3. Fleet scale: N Arc servers onboarded over SSH plus `authorizations` Lighthouse authorizations
// on the dev stack, against a floor that replays the same registrations (types, names, parents,
// providers, dependencies, inputs, secrets) under the same mock engine and loader.
interface FleetRow {
  readonly servers: number;
  readonly authorizations: number;
  readonly status: "ok" | "n/a";
  readonly note?: string;
  readonly resources?: number;
  readonly paired?: ReturnType<typeof roundPaired>;
}
const fleet: FleetRow[] = [];
const fleetPoints: Array<{ x: number; y: number }> = [];
const floorPoints: Array<{ x: number; y: number }> = [];
let fleetGraph: { servers: number; graph: GraphNode[] } | undefined;
const devYaml = readFileSync(resolve(root, "Pulumi.dev.yaml"), "utf8");
if (!args["skip-fleet"]) {
  for (const n of sizes) {
    log(`fleet: ${n} SSH servers + ${authorizations} authorizations...`);
    const file = join(work, `Pulumi.fleet-${n}.yaml`);
    writeFileSync(file, scaleStack(devYaml, { arcServers: n, authorizations }));
    const config = stackConfig("dev", file);
    const record = join(work, `fleet-${n}.registrations.json`);
    const graph = join(work, `fleet-${n}.graph.json`);
    const probe = spawnSync(node, [...program, "--record-out", record, "--graph-out", graph], { cwd: root, encoding: "utf8", env: { ...process.env, ...withConfig(config) }, maxBuffer: 256 * 1024 * 1024 });
    const probeResult = JSON.parse(probe.stdout.trim().split("\n").pop() || "{}") as SampleResult;
    if (!probeResult.ok) {
      const unknown = unknownSection(probeResult.error ?? "");
      if (unknown) {
        fleet.push({ servers: n, authorizations, status: "n/a", note: `keyless:${unknown} is not in this build` });
        continue;
      }
      throw new Error(`fleet ${n}: ${probeResult.error ?? probe.stderr}`);
    }
    // The floor must register exactly what the program did, or the ratio compares different work.
    const floorSample = () => {
      const f = sample([...program, "--replay", record], withConfig(config), `fleet ${n} floor`);
      if (f.result.resources !== probeResult.resources) throw new Error(`fleet ${n}: the floor registered ${f.result.resources} resources, the program ${probeResult.resources}`);
      return f;
    };
    const p = pairs(() => sample(program, withConfig(config), `fleet ${n}`), floorSample);
    for (const ms of p.samples.subjectMs) fleetPoints.push({ x: n, y: ms });
    for (const ms of p.samples.floorMs) floorPoints.push({ x: n, y: ms });
    fleet.push({ servers: n, authorizations, status: "ok", resources: probeResult.resources, paired: roundPaired(p) });
    if (!fleetGraph || n > fleetGraph.servers) fleetGraph = { servers: n, graph: JSON.parse(readFileSync(graph, "utf8")) as GraphNode[] };
    const memoryNote = `memory ${range(p.subjectRssMb, (v) => `${Math.round(v)}`)} MiB vs ${Math.round(p.floorRssMb.median)} MiB = ${range(p.rssRatio, x)}`;
    const targets = n === 500 ? `; targets <= 15 s: ${verdict(p.subject.median <= 15000)}, memory <= 1.10x: ${verdict(p.rssRatio.median <= 1.1)}` : "";
    row(`fleet: ${n} SSH servers + ${authorizations} authorizations vs same-registrations floor`, range(p.subject, sec), range(p.floor, sec), range(p.ratio, x), `${probeResult.resources} registrations; ${memoryNote}${targets}`);
  }
}
const tryGrowth = (points: Array<{ x: number; y: number }>): Growth | undefined => {
  try {
    return growth(points);
  } catch {
    return undefined;
  }
};
const fleetGrowth = tryGrowth(fleetPoints);
const floorGrowth = tryGrowth(floorPoints);
if (fleetGrowth && floorGrowth) {
  row(
    "fleet growth (Theil-Sen over every sample)",
    `${fleetGrowth.msPerItem.toFixed(1)} ms/server`,
    `${floorGrowth.msPerItem.toFixed(1)} ms/server`,
    "",
    `exponent of time above the 0-server run: ${fleetGrowth.exponent.toFixed(2)} (floor ${floorGrowth.exponent.toFixed(2)}); linear (<= 1.15): ${verdict(fleetGrowth.linear)}`,
  );
} else if (!args["skip-fleet"]) row("fleet growth", "", "", "", "n/a: needs size 0 and two other sizes");

// 4. The modeled `pulumi up` from scratch, with Pulumi's default --parallel on a deploying machine
// of `deploy-cpus` CPUs (4 x CPUs; a GitHub-hosted Linux runner has 4 for public repositories).
log("deploy model...");
const parallel = defaultParallel(deployCpus);
const devGraphFile = join(work, "dev.graph.json");
sample([...program, "--graph-out", devGraphFile], withConfig(dev), "dev graph");
const models: Array<{ name: string; model: DeployModel; defaulted: string[] }> = [];
const defaultedTypes = (g: GraphNode[]) => [...new Set(g.filter((n) => n.custom && !n.type.startsWith("pulumi:providers:") && !provisionSeconds(n.type).known).map((n) => n.type))].sort();
const secondsOf = (t: string) => provisionSeconds(t).seconds;
const devGraph = JSON.parse(readFileSync(devGraphFile, "utf8")) as GraphNode[];
models.push({ name: "dev", model: deployModel(devGraph, secondsOf, parallel), defaulted: defaultedTypes(devGraph) });
if (fleetGraph) models.push({ name: `fleet-${fleetGraph.servers}`, model: deployModel(fleetGraph.graph, secondsOf, parallel), defaulted: defaultedTypes(fleetGraph.graph) });
const minutes = (s: number) => `${(s / 60).toFixed(1)} min`;
for (const { name, model, defaulted } of models) {
  const chain = model.criticalPath.chain.filter((l) => l.seconds > 0).map((l) => `${l.urn.split("::").pop()} ${l.seconds}s`).join(" -> ");
  row(`deploy model: pulumi up ${name}, --parallel ${parallel} (${deployCpus} CPUs)`, minutes(model.scheduled.seconds), minutes(model.lowerBoundSeconds), "", `critical path ${minutes(model.criticalPath.seconds)} (${chain}); total work ${minutes(model.workSeconds)}${defaulted.length ? `; 30 s assumed for ${defaulted.join(", ")}` : ""}`);
}

// Output.
const header = ["measurement", "median (min-max)", "floor median (min-max)", "ratio per round", "notes"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
const loadAtEnd = loadavg();
const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), Node ${process.version}, load average ${loadAtStart[0].toFixed(2)} at start, ${loadAtEnd[0].toFixed(2)} at end`;
process.stdout.write(`${started.toISOString()} - ${machine}; ${runs} round(s) per row\n\n`);
process.stdout.write(`${[line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n")}\n\n`);
const fleet500 = fleet.find((f) => f.servers === 500 && f.status === "ok")?.paired;
const roundGrowth = (g: Growth | undefined) => (g ? { msPerItem: round(g.msPerItem, 2), fixedMs: round(g.fixedMs), exponent: round(g.exponent, 3), linear: g.linear } : null);
const result = {
  date: started.toISOString(),
  node: process.version,
  cpus: cpus().length,
  loadAverage: { start: round(loadAtStart[0], 2), end: round(loadAtEnd[0], 2) },
  runs,
  startupRatio: round(startup.ratio.median, 3),
  startup: roundPaired(startup),
  startupReplayRatio: round(startupReplayFloor.ratio.median, 3),
  startupReplay: roundPaired(startupReplayFloor),
  startupOverReplayRatio: round(startupOverReplay.ratio.median, 3),
  startupNoCompileCacheRatio: round(startupNoCompileCache.ratio.median, 3),
  startupNoCompileCache: roundPaired(startupNoCompileCache),
  typecheckRatio: typecheck ? round(Math.max(typecheck.cold.ratio.median, typecheck.warm.ratio.median, typecheck.edited.ratio.median), 3) : null,
  typecheckColdRatio: typecheck ? round(typecheck.cold.ratio.median, 3) : null,
  typecheckWarmRatio: typecheck ? round(typecheck.warm.ratio.median, 3) : null,
  typecheckEditedRatio: typecheck ? round(typecheck.edited.ratio.median, 3) : null,
  typecheck: typecheck ? { cold: roundPaired(typecheck.cold), warm: roundPaired(typecheck.warm), edited: roundPaired(typecheck.edited) } : null,
  fleet500Seconds: fleet500 ? round(fleet500.ms.median / 1000, 2) : null,
  fleet500TimeRatio: fleet500 ? fleet500.ratio.median : null,
  fleet500MemoryRatio: fleet500 ? fleet500.rssRatio.median : null,
  fleet,
  fleetGrowth: roundGrowth(fleetGrowth),
  fleetFloorGrowth: roundGrowth(floorGrowth),
  deploy: models.map(({ name, model, defaulted }) => ({
    stack: name,
    parallel: model.parallel,
    scheduledSeconds: model.scheduled.seconds,
    peakRunning: model.scheduled.peakRunning,
    lowerBoundSeconds: round(model.lowerBoundSeconds, 1),
    criticalPathSeconds: model.criticalPath.seconds,
    workSeconds: model.workSeconds,
    criticalPath: model.criticalPath.chain.map((l) => l.urn),
    defaultedTypes: defaulted,
  })),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
rmSync(work, { recursive: true, force: true });
