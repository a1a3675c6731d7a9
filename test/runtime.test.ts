import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { planStack, root, stackConfig } from "./support/harness";

// How `pulumi up` starts the program (Pulumi.yaml runtime options), exercised the way Pulumi's
// nodejs language host does it: `node <nodeargs> ...`, then require() of `main`.

const project = parse(readFileSync(join(root, "Pulumi.yaml"), "utf8")) as {
  main: string;
  runtime: { name: string; options: { typescript: boolean; nodeargs: string } };
};
const nodeargs = project.runtime.options.nodeargs.split(" ");

/** The loader as `node` takes it (Pulumi.yaml's nodeargs, with the path made absolute). */
const loader = ["--require", join(root, "tools/runtime/register.cjs")];

/** Runs `fn` with the loader's caches in a fresh directory of their own, removed afterwards. */
function withLoaderCache(fn: (env: { KEYLESS_CACHE_DIR: string }) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "keyless-loader-"));
  try {
    fn({ KEYLESS_CACHE_DIR: join(dir, "cache") });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("Pulumi.yaml runtime", () => {
  it("runs index.ts without ts-node (typescript: false) through the repo's loader", () => {
    expect(project.runtime.name).toBe("nodejs");
    expect(project.runtime.options.typescript).toBe(false);
    expect(nodeargs).toEqual(["--require", "./tools/runtime/register.cjs"]);
    expect(project.main).toBe("tools/runtime/main.cjs");
  });

  it("runs the program when Pulumi's own runtime loads main: every registration the offline plan shows", async () => {
    // @pulumi/pulumi cmd/run/run.js calls a CommonJS module's export only when it is a function; an
    // `export default` object would be taken as the stack's outputs and nothing registered.
    const config = { project: "keyless", stack: "dev", ...stackConfig("dev") };
    const r = spawnSync(process.execPath, [...nodeargs, "test/support/pulumi-run.cjs", project.main], { cwd: root, encoding: "utf8", input: JSON.stringify(config) });
    expect(r.status, r.stderr).toBe(0);
    const { types } = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { types: string[] };
    const registered = types.filter((t) => !t.startsWith("invoke ")).sort();
    const plan = await planStack("dev");
    expect(registered).toEqual(plan.resources.map((x) => x.type).sort());
    // Every invoke names its provider: the stack files disable default providers, so one that did not
    // would fail under the real engine ("default provider ... disabled") while mocks answer it.
    const invokes = types.filter((t) => t.startsWith("invoke "));
    expect(invokes).toContain("invoke azure-native:authorization:getClientConfig via azure::azure-provider-id");
    expect(invokes.filter((t) => t.endsWith(" via DEFAULT"))).toEqual([]);
  });

  it("registers the same resources under the loader as the tests do in-process", async () => {
    const cache = mkdtempSync(join(tmpdir(), "keyless-cache-"));
    const graph = join(cache, "graph.json");
    const config = { project: "keyless", stack: "dev", ...stackConfig("dev") };
    const r = run([...nodeargs, "tools/bench/run-stack.ts", "--graph-out", graph], { KEYLESS_BENCH_CONFIG: JSON.stringify(config), KEYLESS_CACHE_DIR: cache });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const sample = JSON.parse(r.stdout);
    const plan = await planStack("dev");
    expect(sample).toMatchObject({ ok: true, resources: plan.resources.length });
    const urns = (JSON.parse(readFileSync(graph, "utf8")) as Array<{ urn: string; dependencies: string[] }>).map((n) => [n.urn, n.dependencies]);
    expect(urns).toEqual(plan.resources.map((p) => [p.urn, p.dependencies]));
  });

  it("never runs stale code: an edited file is transpiled again, an unchanged one comes from the cache", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyless-loader-"));
    const cache = join(dir, "cache");
    const main = join(dir, "main.ts");
    writeFileSync(join(dir, "answer.ts"), "export const answer: number = 1;\n");
    writeFileSync(main, 'import { answer } from "./answer";\nprocess.stdout.write(String(answer));\n');
    const once = () => run([...nodeargs.map((a) => (a.startsWith("./") ? join(root, a) : a)), main], { KEYLESS_CACHE_DIR: cache });
    const cached = () => readdirSync(join(cache, "ts")).length;
    expect(once()).toMatchObject({ status: 0, stdout: "1" });
    expect(cached()).toBe(2);
    expect(once()).toMatchObject({ status: 0, stdout: "1" });
    expect(cached()).toBe(2); // both read back
    writeFileSync(join(dir, "answer.ts"), "export const answer: number = 2;\n");
    expect(once()).toMatchObject({ status: 0, stdout: "2" });
    expect(cached()).toBe(3); // only the edited file transpiled again
  });

  it("rebuilds a cache entry that is empty, cut short or edited, and never runs it", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyless-loader-"));
    const cache = join(dir, "cache");
    const main = join(dir, "main.ts");
    writeFileSync(main, 'const registered: string[] = ["a", "b"];\nprocess.stdout.write(String(registered.length));\n');
    const once = () => run([...loader, main], { KEYLESS_CACHE_DIR: cache });
    expect(once()).toMatchObject({ status: 0, stdout: "2" });
    const [entry] = readdirSync(join(cache, "ts"));
    const file = join(cache, "ts", entry);
    const good = readFileSync(file, "utf8");
    expect(good).toMatch(/^\/\/keyless-cache sha256=[0-9a-f]{64}\n/);
    const bad: Array<[string, string]> = [
      ["empty", ""],
      ["cut short", good.slice(0, good.length - 40)],
      ["code edited, hash kept", good.replace('"a", "b"', '"a"')],
      ["no header (an older cache)", good.slice(good.indexOf("\n") + 1)],
      ["code replaced by nothing", good.slice(0, good.indexOf("\n") + 1)],
    ];
    for (const [what, text] of bad) {
      expect(text, what).not.toBe(good);
      writeFileSync(file, text);
      expect(once()).toMatchObject({ status: 0, stdout: "2", stderr: "" });
      expect(readFileSync(file, "utf8")).toBe(good); // rewritten
    }
  });

  it("plans the whole dev stack when every cache entry was emptied (it used to report zero resources)", () => {
    const cache = mkdtempSync(join(tmpdir(), "keyless-cache-"));
    const config = { project: "keyless", stack: "dev", ...stackConfig("dev") };
    const sample = () => run([...nodeargs, "tools/bench/run-stack.ts"], { KEYLESS_BENCH_CONFIG: JSON.stringify(config), KEYLESS_CACHE_DIR: cache });
    const first = sample();
    expect(first.status).toBe(0);
    const expected = JSON.parse(first.stdout).resources as number;
    expect(expected).toBeGreaterThan(40);
    const entries = readdirSync(join(cache, "ts"));
    for (const e of entries) writeFileSync(join(cache, "ts", e), "");
    const again = sample();
    expect(again).toMatchObject({ status: 0, stderr: "" });
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, resources: expected });
    for (const e of entries) expect(readFileSync(join(cache, "ts", e), "utf8")).toMatch(/^\/\/keyless-cache sha256=/);
  });

  it("checks an entry against the hash stored with it (readEntry / entryFor)", () => {
    const cacheEntries = require(join(root, "tools/runtime/register.cjs")) as {
      readEntry(entry: string): string | undefined;
      entryFor(code: string): string;
    };
    const cases: Array<[string, string | undefined]> = [
      [cacheEntries.entryFor("module.exports = 1;\n"), "module.exports = 1;\n"],
      [cacheEntries.entryFor(""), ""],
      [cacheEntries.entryFor("x").replace("x", "y"), undefined],
      ["", undefined],
      ["//keyless-cache sha256=abc", undefined],
      ["module.exports = 1;\n", undefined],
    ];
    for (const [entry, code] of cases) expect(cacheEntries.readEntry(entry)).toBe(code);
  });

  // A failing program, in the repo (so @pulumi/pulumi resolves): a component whose constructor throws.
  const componentThatThrows = [
    'import * as pulumi from "@pulumi/pulumi";',
    "interface BoomArgs {",
    "  readonly size: number;",
    "}",
    "class Boom extends pulumi.ComponentResource {",
    "  constructor(name: string, args: BoomArgs) {",
    '    super("keyless:test:Boom", name, {}, {});',
    "    if (args.size > 1) throw new Error(`boom: size ${args.size}`);",
    "  }",
    "}",
    'pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "keyless", "dev", false);',
    'new Boom("b", { size: 2 });',
    "",
  ].join("\n");
  function throwingProgram(): { dir: string; main: string } {
    const dir = join(root, ".cache", "test-runtime");
    mkdirSync(dir, { recursive: true });
    const tmp = mkdtempSync(join(dir, "boom-"));
    const main = join(tmp, "boom.ts");
    writeFileSync(main, componentThatThrows);
    return { dir: tmp, main };
  }

  it("prints the stack of an error thrown inside a component at the .ts line (source maps on by default)", () => {
    const { dir, main } = throwingProgram();
    try {
      const r = run([...nodeargs.map((a) => (a.startsWith("./") ? join(root, a) : a)), main], { KEYLESS_CACHE_DIR: join(dir, "cache") });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("Error: boom: size 2");
      // The source line Node prints above an uncaught error: read from the .ts file the map names
      // (the map carries no copy of the source).
      expect(r.stderr).toContain(`${main}:8\n    if (args.size > 1) throw new Error(\`boom: size \${args.size}\`);\n`);
      expect(r.stderr).toContain(`at new Boom (${main}:8:30)`);
      expect(r.stderr).toContain(`(${main}:12:1)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("leaves out only the SDK's per-promise debug trace (Error.stackTraceLimit 0 inside debuggablePromise), and keeps it when asked", () => {
    const { dir, main } = throwingProgram();
    // The trace debuggablePromise records on a promise the program creates through the SDK.
    writeFileSync(
      main,
      [
        'import * as pulumi from "@pulumi/pulumi";',
        'import { debuggablePromise } from "@pulumi/pulumi/runtime/debuggable";',
        'const p: Promise<number> & { _debugStackTrace?: string } = Promise.resolve(1);',
        'void debuggablePromise(p, "probe");',
        'const own = new Error("own").stack ?? "";',
        "process.stdout.write(JSON.stringify({ debug: p._debugStackTrace, own, sdk: typeof pulumi.Output }));",
        "",
      ].join("\n"),
    );
    try {
      const args = [...loader, main];
      const skipped = run(args, { KEYLESS_CACHE_DIR: join(dir, "cache") });
      expect(skipped.status).toBe(0);
      const a = JSON.parse(skipped.stdout) as { debug: string; own: string };
      expect(a.debug).toBe("Error"); // no frames captured
      expect(a.own).toContain(`${main}:5:13`);
      for (const env of [{ KEYLESS_PROMISE_STACKS: "1" }, { PULUMI_DEBUG_PROMISE_LEAKS: "1" }] as Array<Record<string, string>>) {
        const kept = JSON.parse(run(args, { KEYLESS_CACHE_DIR: join(dir, "cache"), ...env }).stdout) as { debug: string };
        expect(kept.debug).toContain("at debuggablePromise (");
        expect(kept.debug).toContain(`${main}:4:`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loads zod's translations only when one is read, with the same names and messages as without the loader", () => {
    const probe = [
      "const { z } = require('zod');",
      "const loaded = () => Object.keys(require.cache).filter((f) => /[\\\\/]zod[\\\\/]v4[\\\\/]locales[\\\\/]/.test(f)).map((f) => f.split(/[\\\\/]/).pop()).sort();",
      "const before = loaded();",
      "const names = Object.keys(z.locales).sort();",
      "const issue = { code: 'invalid_type', expected: 'string', input: 1 };",
      "const fr = z.locales.fr().localeError(issue);",
      "const message = z.string().safeParse(1).error.issues[0].message;",
      "process.stdout.write(JSON.stringify({ before, names, fr, message, after: loaded() }));",
    ].join("\n");
    withLoaderCache((env) => {
      const plain = JSON.parse(run(["-e", probe]).stdout) as { before: string[]; names: string[]; fr: string; message: string };
      const r = run([...loader, "-e", probe], env);
      expect(r.status).toBe(0);
      const lazy = JSON.parse(r.stdout) as { before: string[]; names: string[]; fr: string; message: string; after: string[] };
      expect(plain.before.length).toBeGreaterThan(50); // zod alone loads every translation
      expect(lazy.before).toEqual(["en.cjs", "index.cjs"]); // English, which zod's schemas import themselves
      expect(lazy.after).toEqual(["en.cjs", "fr.cjs", "index.cjs"]);
      expect(lazy.names).toEqual(plain.names);
      expect(lazy.fr).toBe(plain.fr);
      expect(lazy.message).toBe("Invalid input: expected string, received number");
      expect(lazy.message).toBe(plain.message);
    });
  });

  it("loads the SDK's Automation API, dynamic and provider namespaces and function serialization only when read, with the same values", () => {
    const probe = [
      "const seen = (re) => Object.keys(require.cache).some((f) => re.test(f));",
      "const heavy = () => ({",
      "  arborist: seen(/[\\\\/]@npmcli[\\\\/]arborist[\\\\/]/),",
      "  typescript: seen(/[\\\\/]typescript[\\\\/]lib[\\\\/]typescript\\.js$/),",
      "  automation: seen(/[\\\\/]@pulumi[\\\\/]pulumi[\\\\/]automation[\\\\/]index\\.js$/),",
      "  provider: seen(/[\\\\/]@pulumi[\\\\/]pulumi[\\\\/]provider[\\\\/]index\\.js$/),",
      "});",
      "const pulumi = require('@pulumi/pulumi');",
      "const modules = Object.keys(require.cache).length;",
      "const before = heavy();",
      "const keys = Object.keys(pulumi).sort();",
      "const runtimeKeys = Object.keys(pulumi.runtime).sort();",
      "const values = {",
      "  automation: pulumi.automation === require('@pulumi/pulumi/automation') && typeof pulumi.automation.LocalWorkspace,",
      "  dynamic: pulumi.dynamic === require('@pulumi/pulumi/dynamic') && typeof pulumi.dynamic.Resource,",
      "  provider: pulumi.provider === require('@pulumi/pulumi/provider') && typeof pulumi.provider.main,",
      "  serializeFunction: pulumi.runtime.serializeFunction === require('@pulumi/pulumi/runtime/closure/serializeClosure').serializeFunction,",
      "  serializeFunctionAsync: typeof pulumi.runtime.serializeFunctionAsync,",
      "  computeCodePaths: pulumi.runtime.computeCodePaths === require('@pulumi/pulumi/runtime/closure/codePaths').computeCodePaths,",
      "};",
      "process.stdout.write(JSON.stringify({ modules, before, keys, runtimeKeys, values, after: heavy() }));",
    ].join("\n");
    withLoaderCache((env) => {
      const plain = JSON.parse(run(["-e", probe]).stdout);
      const r = run([...loader, "-e", probe], env);
      expect(r.stderr).toBe("");
      const lazy = JSON.parse(r.stdout);
      const eager = JSON.parse(run([...loader, "-e", probe], { ...env, KEYLESS_EAGER_SDK: "1" }).stdout);
      const all = { arborist: true, typescript: true, automation: true, provider: true };
      expect(plain.before).toEqual(all); // the SDK alone loads every one of them
      expect(eager.before).toEqual(all);
      expect(lazy.before).toEqual({ arborist: false, typescript: false, automation: false, provider: false });
      expect(lazy.modules).toBeLessThan(plain.modules / 2);
      expect(lazy.after).toEqual({ ...all, typescript: plain.after.typescript });
      expect(lazy.keys).toEqual(plain.keys);
      expect(lazy.runtimeKeys).toEqual(plain.runtimeKeys);
      expect(lazy.values).toEqual(plain.values);
      expect(plain.values).toEqual({
        automation: "function",
        dynamic: "function",
        provider: "function",
        serializeFunction: true,
        serializeFunctionAsync: "function",
        computeCodePaths: true,
      });
    });
  });

  it("collapses a resource's aliases to URNs only when read, and registers the same aliases as without the loader, with alias specs and without", () => {
    // A parent, child and grandchild with aliases of every form, registered under the mock engine,
    // once as it is (alias specs: the aliases go as they are) and once as an old engine without
    // them (the SDK sends every URN, read from the parents' collapsed aliases).
    const probe = [
      "const pulumi = require('@pulumi/pulumi');",
      "const mocks = require('@pulumi/pulumi/runtime/mocks');",
      "const settings = require('@pulumi/pulumi/runtime/settings');",
      "const state = require('@pulumi/pulumi/runtime/state');",
      "const sent = [];",
      "const register = mocks.MockMonitor.prototype.registerResource;",
      "mocks.MockMonitor.prototype.registerResource = function (req, cb) {",
      "  sent.push({ name: req.getName(), aliasUrns: req.getAliasurnsList(), aliases: req.getAliasesList().map((a) => a.toObject()) });",
      "  return register.call(this, req, cb);",
      "};",
      "(async () => {",
      "  await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name + '-id', state: a.inputs }), call: (a) => a.inputs }, 'proj', 'stack', true);",
      "  state.getStore().supportsAliasSpecs = process.env.ALIAS_SPECS === '1';",
      "  const probe = new pulumi.ComponentResource('my:mod:Probe', 'probe', {}, { aliases: [{ name: 'old-probe' }] });",
      "  const deferred = typeof Object.getOwnPropertyDescriptor(probe, '__aliases').get === 'function';",
      "  const parent = new pulumi.ComponentResource('my:mod:Parent', 'p', {}, { aliases: [{ name: 'old-p' }, { type: 'my:mod:OldParent' }] });",
      "  const child = new pulumi.CustomResource('my:mod:Child', 'c', {}, { parent, aliases: [{ name: 'old-c' }, 'urn:pulumi:stack::proj::my:mod:Gone::c'] });",
      "  new pulumi.CustomResource('my:mod:Grandchild', 'g', {}, { parent: child, aliases: [{ type: 'my:mod:OldGrandchild' }] });",
      "  const parentAliases = await Promise.all(parent.__aliases.map((o) => o.promise()));",
      "  await settings.waitForRPCs();",
      "  sent.sort((a, b) => (a.name < b.name ? -1 : 1));",
      "  process.stdout.write(JSON.stringify({ deferred, parentAliases, sent }));",
      "})();",
    ].join("\n");
    withLoaderCache((env) => {
      for (const ALIAS_SPECS of ["1", "0"]) {
        const plain = JSON.parse(run(["-e", probe], { ALIAS_SPECS }).stdout);
        const r = run([...loader, "-e", probe], { ...env, ALIAS_SPECS });
        expect(r.stderr).toBe("");
        const lazy = JSON.parse(r.stdout);
        const eager = JSON.parse(run([...loader, "-e", probe], { ...env, ALIAS_SPECS, KEYLESS_EAGER_SDK: "1" }).stdout);
        expect(plain.deferred).toBe(false); // the SDK collapses them in the constructor
        expect(eager.deferred).toBe(false);
        expect(lazy.deferred).toBe(true);
        expect(lazy.parentAliases).toEqual(["urn:pulumi:stack::proj::my:mod:Parent::old-p", "urn:pulumi:stack::proj::my:mod:OldParent::p"]);
        expect(lazy.parentAliases).toEqual(plain.parentAliases);
        expect(lazy.sent).toEqual(plain.sent);
        const child = (lazy.sent as Array<{ name: string; aliasUrns: string[]; aliases: unknown[] }>).find((s) => s.name === "c");
        if (ALIAS_SPECS === "1") {
          expect(child?.aliasUrns).toEqual([]);
          expect(child?.aliases).toEqual([
            { spec: { name: "old-c", type: "", stack: "", project: "", parenturn: "urn:pulumi:stack::proj::my:mod:Parent::p" } },
            { urn: "urn:pulumi:stack::proj::my:mod:Gone::c" },
          ]);
        } else {
          // Without alias specs the child's URNs are built from the parent's collapsed aliases.
          expect(child?.aliases).toEqual([]);
          expect(child?.aliasUrns).toContain("urn:pulumi:stack::proj::my:mod:OldParent$my:mod:Child::old-c");
        }
      }
    });
  });

  it("points stack traces at esbuild's lines when source maps are turned off (KEYLESS_SOURCE_MAPS=0)", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyless-loader-"));
    const main = join(dir, "boom.ts");
    writeFileSync(main, ["interface Shape {", "  readonly n: number;", "}", "const s: Shape = { n: 1 };", "throw new Error(`boom ${s.n}`);", ""].join("\n"));
    const on = run([...loader, main], { KEYLESS_CACHE_DIR: join(dir, "cache") });
    expect(on.stderr).toContain(`${main}:5:7`);
    const off = run([...loader, main], { KEYLESS_CACHE_DIR: join(dir, "cache"), KEYLESS_SOURCE_MAPS: "0" });
    expect(off.status).toBe(1);
    expect(off.stderr).toContain(`${main}:2:`);
  });
});
