import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { root } from "./support/harness";

// `npm run typecheck` runs TypeScript 7 (the native compiler, installed as `typescript7`: the
// `typescript` package stays 5.9 because @pulumi/pulumi's optional peer range ends before 7). It
// needs a resolution mode TS 7 supports ("moduleResolution": "node" is gone, TS5108). These tests
// prove the check still fails on a type error, through the repo's real tsconfig and imports.

const tsc = join(root, "node_modules/typescript7/bin/tsc");
// What `npm run typecheck` runs: tsc 7 with one checker per CPU, at most four.
const typecheck = join(root, "tools/typecheck.cjs");
const { tscArgs } = createRequire(import.meta.url)("../tools/typecheck.cjs") as { tscArgs: (args: readonly string[], cpus: number) => string[] };
const dir = join(root, ".cache", "test-typecheck");
mkdirSync(dir, { recursive: true });
// One directory per mode, so the build info one leaves cannot answer for the other.
const workDirs = { project: mkdtempSync(join(dir, "planted-")), build: mkdtempSync(join(dir, "build-")) };
afterAll(() => Object.values(workDirs).forEach((d) => rmSync(d, { recursive: true, force: true })));

/**
 * tsc 7 on one file that imports the project's own modules, with the repo's compiler options; its
 * build info stays in the throwaway directory. `build`: as `npm run typecheck` runs it
 * (tools/typecheck.cjs --build).
 */
function check(source: string, mode: "project" | "build" = "project") {
  const work = workDirs[mode];
  // Files are written only when their text changes, as an editor would leave them.
  const write = (file: string, text: string) => existsSync(join(work, file)) && readFileSync(join(work, file), "utf8") === text ? undefined : writeFileSync(join(work, file), text);
  write("planted.ts", source);
  write("tsconfig.json", JSON.stringify({ extends: "../../../tsconfig.json", compilerOptions: { rootDir: "../../..", tsBuildInfoFile: "planted.tsbuildinfo" }, include: ["planted.ts"] }));
  const args = mode === "build" ? ["--build", join(work, "tsconfig.json"), "--verbose"] : ["-p", join(work, "tsconfig.json"), "--noEmit"];
  const r = spawnSync(process.execPath, [mode === "build" ? typecheck : tsc, ...args], { cwd: root, encoding: "utf8" });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("type check (TypeScript 7)", () => {
  it("uses TypeScript 7 with a resolution mode it supports", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg.devDependencies.typescript7).toMatch(/^npm:typescript@7\.\d+\.\d+$/);
    expect(pkg.scripts.typecheck).toBe("node tools/typecheck.cjs --build tsconfig.json");
    const options = (JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")) as { compilerOptions: Record<string, unknown> }).compilerOptions;
    expect({ module: options.module, moduleResolution: options.moduleResolution, strict: options.strict }).toEqual({ module: "preserve", moduleResolution: "bundler", strict: true });
    // --build keeps its build info in .cache/ (git-ignored) and emits nothing.
    expect({ noEmit: options.noEmit, incremental: options.incremental, tsBuildInfoFile: options.tsBuildInfoFile }).toEqual({ noEmit: true, incremental: true, tsBuildInfoFile: ".cache/typecheck.tsbuildinfo" });
  });

  // tsc 7 runs four checkers whatever the CPUs; each repeats the type resolution its files need.
  it.each<[string, string[], number, string[]]>([
    ["2 CPUs: two checkers, after --build (which must come first)", ["--build", "tsconfig.json"], 2, ["--build", "tsconfig.json", "--checkers", "2"]],
    ["1 CPU: one", ["--build", "tsconfig.json"], 1, ["--build", "tsconfig.json", "--checkers", "1"]],
    ["16 CPUs: four, tsc's own default", ["--build", "tsconfig.json", "--force"], 16, ["--build", "tsconfig.json", "--force", "--checkers", "4"]],
    ["the caller's count stands", ["--build", "tsconfig.json", "--checkers", "3"], 2, ["--build", "tsconfig.json", "--checkers", "3"]],
    ["a single thread stands", ["--build", "tsconfig.json", "--singleThreaded"], 8, ["--build", "tsconfig.json", "--singleThreaded"]],
  ])("tools/typecheck.cjs: %s", (_, args, cpus, want) => {
    expect(tscArgs(args, cpus)).toEqual(want);
  });

  it("under --build, checks again when a file changed and skips only when nothing did", () => {
    const good = 'import { builtInRoles } from "../../../lib/roles";\nexport const roles: object = builtInRoles;\n';
    const first = check(good, "build");
    expect(first.status).toBe(0);
    expect(first.out).toMatch(/Building project/);
    expect(existsSync(join(workDirs.build, "planted.tsbuildinfo"))).toBe(true);
    // Nothing changed since: the build info answers without a check.
    const again = check(good, "build");
    expect(again.status).toBe(0);
    expect(again.out).toMatch(/is up to date/);
    // An edit after a passing check is checked, and its error fails the command.
    const edited = check(`${good}export const broken: number = "text";\n`, "build");
    expect(edited.status).not.toBe(0);
    expect(edited.out).toMatch(/planted\.ts\(3,14\): error TS2322: Type 'string' is not assignable to type 'number'\./);
    // A failed check leaves nothing that lets the next run skip it.
    const unchanged = check(`${good}export const broken: number = "text";\n`, "build");
    expect(unchanged.status).not.toBe(0);
    expect(unchanged.out).toContain("error TS2322");
  });

  it("passes a correct program that imports the project and an azure-native subpath", () => {
    const ok = check(['import { Kind } from "@pulumi/azure-native/types/enums/storage";', 'import { builtInRoles } from "../../../lib/roles";', "export const kind: string = Kind.StorageV2;", "export const roles: object = builtInRoles;", ""].join("\n"));
    expect(ok.out).toBe("");
    expect(ok.status).toBe(0);
  });

  it("fails on a planted type error and names the file, line and rule", () => {
    const bad = check(['import { Kind } from "@pulumi/azure-native/types/enums/storage";', 'export const kind: number = Kind.StorageV2;', ""].join("\n"));
    expect(bad.status).not.toBe(0);
    expect(bad.out).toMatch(/planted\.ts\(2,14\): error TS2322: Type 'string' is not assignable to type 'number'\./);
  });

  it("fails on an import the resolution mode cannot find", () => {
    const bad = check('import { nothing } from "../../../lib/no-such-module";\nexport const x = nothing;\n');
    expect(bad.status).not.toBe(0);
    expect(bad.out).toContain("error TS2307: Cannot find module '../../../lib/no-such-module'");
  });
});
