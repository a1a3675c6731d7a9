import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { readProject, readStackConfig } from "../plan/stack-file";
import { median } from "./stats";

// npx tsx tools/bench/runtimes.ts [--runs N] : how fast each way of starting the program is, for
// the choice recorded in Pulumi.yaml and docs/performance.md. Each variant runs the dev stack under
// the mock engine (tools/bench/run-stack.ts), interleaved round by round so machine load spreads
// evenly, each in a fresh process; medians of N (default 5).
//   floor         node, require("@pulumi/pulumi") only
//   loader        node --require ./tools/runtime/register.cjs  (Pulumi.yaml's nodeargs; caches warm)
//   loader-cold   the same with empty caches (first run after a clone)
//   tsx           node --import tsx (esbuild through tsx's module hooks, tsx's own cache)
//   tsc-js        plain node on tsc's output in a temp dir (precompiled; needs a build step)
//   tsc-js+cache  the same with Node's compile cache (NODE_COMPILE_CACHE), as the loader enables it
//   esbuild-bundle plain node on an esbuild bundle of the program and run-stack, packages external
//   ts-node       what @pulumi/pulumi's run.js does with typescript: true: its vendored ts-node 7
//                 with the repo's `typescript` package (5.9, the version Pulumi supports; the type
//                 check itself runs TypeScript 7), transpile-only (PULUMI_NODEJS_TRANSPILE_ONLY=true)
//   ts-node-check the same with type checking (Pulumi's default), its cache warm

const root = resolve(__dirname, "../..");
const node = process.execPath;
const { values: args } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Number(args.runs);
const work = mkdtempSync(join(tmpdir(), "keyless-runtimes-"));
const project = readProject(resolve(root, "Pulumi.yaml"));
const env = { KEYLESS_BENCH_CONFIG: JSON.stringify({ project: project.name, stack: "dev", ...readStackConfig(resolve(root, "Pulumi.dev.yaml"), project.defaults) }) };

function run(argv: string[], extraEnv: Record<string, string> = {}): number {
  const start = performance.now();
  const r = spawnSync(node, argv, { cwd: root, encoding: "utf8", env: { ...process.env, ...env, ...extraEnv } });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return ms;
}

// Builds for the precompiled variants, outside the repo.
const tscOut = join(work, "tsc");
// tsconfig.json checks with "module": "preserve" (bundler resolution); this variant needs CommonJS
// output, so the emit overrides both with what Node's require() runs. Its build info goes next to
// its output: the repo's (.cache/typecheck.tsbuildinfo) belongs to `npm run typecheck`, and a
// compiler finding its own there would skip emitting into this fresh directory.
const tsc = spawnSync(
  node,
  [resolve(root, "node_modules/typescript/bin/tsc"), "-p", resolve(root, "tsconfig.json"), "--noEmit", "false", "--outDir", tscOut, "--tsBuildInfoFile", join(work, "tsc.tsbuildinfo"), "--module", "commonjs", "--moduleResolution", "node10"],
  { cwd: root, encoding: "utf8" },
);
if (tsc.status !== 0) throw new Error(`tsc emit failed:\n${tsc.stdout}`);
// Compiled files resolve node_modules from their own location, and components read host scripts
// next to their own directory (join(__dirname, "..", "scripts")): link the repo's.
const link = (dir: string, what = "node_modules") => spawnSync("ln", ["-s", resolve(root, what), join(dir, what)]);
link(tscOut);
link(tscOut, "scripts");
const bundleOut = join(work, "bundle");
const esbuild = require("esbuild") as typeof import("esbuild");
for (const entry of ["index.ts", "tools/bench/run-stack.ts"]) {
  esbuild.buildSync({
    entryPoints: [resolve(root, entry)],
    outfile: join(bundleOut, entry.replace(/\.ts$/, ".js")),
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    packages: "external",
    supported: { "dynamic-import": false },
    logLevel: "warning",
  });
}
link(bundleOut);
link(work, "scripts"); // a bundle's __dirname is bundleOut itself, so "../scripts" is here

// What @pulumi/pulumi/cmd/run/run.js does before require(program) when PULUMI_NODEJS_TYPESCRIPT=true,
// with CommonJS output: tsconfig.json's "module": "preserve" (for the TypeScript 7 check) would make
// ts-node emit ES modules that require() cannot load, so typescript: true would need this override too.
const tsNodeRegister = join(work, "ts-node-register.js");
writeFileSync(
  tsNodeRegister,
  `const path = require("path");
const tsutils = require(${JSON.stringify(resolve(root, "node_modules/@pulumi/pulumi/tsutils"))});
const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
require(tsnodeRequire.startsWith("/") ? tsnodeRequire : require.resolve(tsnodeRequire, { paths: [process.cwd()] })).register({
  compiler: typescriptRequire, transpileOnly: process.env.PULUMI_NODEJS_TRANSPILE_ONLY === "true", project: "tsconfig.json", skipProject: false,
  compilerOptions: { target: "ES2020", sourceMap: "true", ...compilerOptions, module: "commonjs", moduleResolution: "node10" },
});
`,
);

const runStack = resolve(root, "tools/bench/run-stack.ts");
const register = resolve(root, "tools/runtime/register.cjs");
const variants: Record<string, () => number> = {
  floor: () => run(["-e", 'require("@pulumi/pulumi")']),
  loader: () => run(["--require", register, runStack]),
  "loader-cold": () => run(["--require", register, runStack], { KEYLESS_CACHE_DIR: mkdtempSync(join(work, "cold-")) }),
  tsx: () => run(["--import", "tsx", runStack]),
  "tsc-js": () => run([join(tscOut, "tools/bench/run-stack.js")]),
  "tsc-js+cache": () => run([join(tscOut, "tools/bench/run-stack.js")], { NODE_COMPILE_CACHE: join(work, "v8-tsc") }),
  "esbuild-bundle": () => run([join(bundleOut, "tools/bench/run-stack.js")]),
  "ts-node": () => run(["--require", tsNodeRegister, runStack], { PULUMI_NODEJS_TRANSPILE_ONLY: "true" }),
  "ts-node-check": () => run(["--require", tsNodeRegister, runStack], { PULUMI_NODEJS_TRANSPILE_ONLY: "false" }),
};
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (const v of Object.values(variants)) v(); // warm every cache once
for (let i = 0; i < runs; i++) for (const [name, v] of Object.entries(variants)) samples[name].push(v());
const floor = median(samples.floor);
process.stdout.write("| variant | median | vs floor |\n|---|---|---|\n");
for (const [name, s] of Object.entries(samples)) process.stdout.write(`| ${name} | ${(median(s) / 1000).toFixed(2)} s | ${(median(s) / floor).toFixed(2)}x |\n`);
process.stdout.write(`${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, s]) => [k, Math.round(median(s))])))}\n`);
rmSync(work, { recursive: true, force: true });
