import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
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

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("Pulumi.yaml runtime", () => {
  it("runs index.ts without ts-node (typescript: false) through the repo's loader", () => {
    expect(project.runtime.name).toBe("nodejs");
    expect(project.runtime.options.typescript).toBe(false);
    expect(nodeargs).toEqual(["--require", "./tools/runtime/register.cjs"]);
    expect(project.main).toBe("index.ts");
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

  it("points stack traces at the .ts lines when asked (KEYLESS_SOURCE_MAPS=1)", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyless-loader-"));
    const main = join(dir, "boom.ts");
    writeFileSync(main, ["interface Shape {", "  readonly n: number;", "}", "const s: Shape = { n: 1 };", "throw new Error(`boom ${s.n}`);", ""].join("\n"));
    const r = run(["--require", join(root, "tools/runtime/register.cjs"), main], { KEYLESS_CACHE_DIR: join(dir, "cache"), KEYLESS_SOURCE_MAPS: "1" });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${main}:5:7`);
  });
});
