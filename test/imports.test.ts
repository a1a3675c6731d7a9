import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./support/harness";

// Importing @pulumi/azure-native from its root loads hundreds of modules and doubles type-check
// time; every import names its subpath (@pulumi/azure-native/storage). This scan fails on a root
// import in any source file, in any of its forms.

const pkg = ["@pulumi", "azure-native"].join("/"); // spelled apart so this file does not match itself
/** A root-import matcher for one package. */
function rootImportOf(name: string): RegExp {
  const quoted = `["'\`]${name.replace("/", "\\/")}["'\`]`;
  return new RegExp(`(?:\\bfrom\\s*${quoted}|\\bimport\\s*${quoted}|\\b(?:require|import)\\s*\\(\\s*${quoted}\\s*\\))`);
}
/** `from "<pkg>"`, `import "<pkg>"`, `require("<pkg>")`, `import("<pkg>")`, `import x = require("<pkg>")`. */
export const rootImport = rootImportOf(pkg);
// @pulumi/azuread has no exports map: each resource is a file of its own (@pulumi/azuread/application),
// while its root index re-exports every resource, function and type, which the type checker then
// reads in full. The same rule holds for it.
const adPkg = ["@pulumi", "azuread"].join("/");
export const azureadRootImport = rootImportOf(adPkg);

// A module path (@pulumi/azure-native/network) is no better for the type checker: the module's
// index.d.ts re-exports every resource and function of the module (network: 288 files, 1.45 MB), all
// of which are read and bound. Each name comes from its own file (@pulumi/azure-native/network/
// virtualNetwork), each enum from the shared enums (@pulumi/azure-native/types/enums/network, which
// every resource file loads anyway). Same classes and type tokens at run time. `provider`, `types`
// and `types/...` are no module indexes.
const notModules = new Set(["provider", "types", "utilities"]);
// The bench's type-check floor is, by its definition, a one-line program importing one module
// (tools/bench/cli.ts, "2. Type check"); it is written to a file of its own, never part of the project.
const benchFloor = { file: join("tools", "bench", "cli.ts"), line: "const floorSource = " };
const quote = "[\"'`]";
/** A module-index import of azure-native, in any form; group 1 is the module. */
export const moduleIndexImport = new RegExp(
  `(?:\\bfrom\\s*|\\bimport\\s*|\\b(?:require|import)\\s*\\(\\s*)${quote}${pkg.replace("/", "\\/")}\\/([A-Za-z0-9]+)(?:\\/index(?:\\.js)?)?${quote}`,
  "g",
);
const azureNative = join(root, "node_modules", pkg);

/** Where each name a module index exports is declared: its own file, or the module's enums. */
function deepPaths(module: string): Map<string, string> {
  const index = readFileSync(join(azureNative, module, "index.d.ts"), "utf8");
  const paths = new Map<string, string>();
  for (const m of index.matchAll(/^export \{ ([^}]+) \} from "\.\/([^"]+)";$|^export (?:declare const|type) (\w+)(?:: typeof| =) import\("\.\/([^"]+)"\)/gm)) {
    const names = m[1] ? m[1].split(",").map((n) => n.trim()) : [m[3] ?? ""];
    for (const name of names) paths.set(name, `${pkg}/${module}/${m[2] ?? m[4]}`);
  }
  if (index.includes(`export * from "../types/enums/${module}";`)) {
    const enums = readFileSync(join(azureNative, "types", "enums", module, "index.d.ts"), "utf8");
    for (const m of enums.matchAll(/^export declare const (\w+)/gm)) paths.set(m[1] ?? "", `${pkg}/types/enums/${module}`);
  }
  return paths;
}

/** The names a file takes from the import that ends at `at` (before `from`): its braces, or `ns.Name` for a namespace. */
function importedNames(source: string, at: number): string[] {
  const statement = source.slice(source.lastIndexOf("import", at), at);
  const braces = /\{([^}]*)\}\s*$/.exec(statement);
  if (braces) return (braces[1] ?? "").split(",").map((n) => n.trim().replace(/^type\s+/, "").split(/\s+as\s+/)[0] ?? "").filter(Boolean);
  const ns = /\*\s*as\s+(\w+)\s*$/.exec(statement)?.[1];
  if (!ns) return [];
  return [...new Set([...source.matchAll(new RegExp(`\\b${ns}\\.(\\w+)`, "g"))].map((m) => m[1] ?? ""))];
}

/** One line per module-index import in `source`: where, and which deep paths to import instead. */
export function moduleIndexProblems(file: string, source: string): string[] {
  const problems: string[] = [];
  for (const m of source.matchAll(moduleIndexImport)) {
    const module = m[1] ?? "";
    if (notModules.has(module)) continue;
    const line = source.slice(0, m.index).split("\n").length;
    if (file === benchFloor.file && (source.split("\n")[line - 1] ?? "").trimStart().startsWith(benchFloor.line)) continue;
    const known = existsSync(join(azureNative, module, "index.d.ts")) ? deepPaths(module) : new Map<string, string>();
    const names = importedNames(source, m.index);
    const instead = names.map((n) => `${n} from "${known.get(n) ?? `${pkg}/${module}/<file of ${n}>`}"`);
    const hint = instead.length > 0 ? instead.join(", ") : `each name from its own file ("${pkg}/${module}/<file>") and enums from "${pkg}/types/enums/${module}"`;
    problems.push(`${file}:${line}: "${pkg}/${module}" loads the whole module index; import ${hint}`);
  }
  return problems;
}

const sourceDirs = ["parts", "components", "lib", "tools", "policy", "test", "scripts"];
const sourceFile = /\.(?:[cm]?ts|[cm]?js)$/;

function walk(dir: string, into: string[]): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "bin") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, into);
    else if (sourceFile.test(name)) into.push(path);
  }
}

describe("azure-native and azuread imports", () => {
  it("recognises every form of a root import and no subpath import", () => {
    for (const bad of [
      `import * as azure from "${pkg}";`,
      `import { storage } from '${pkg}'`,
      `export * from "${pkg}";`,
      `import "${pkg}";`,
      `const azure = require("${pkg}");`,
      `const azure = await import(\`${pkg}\`);`,
      `import azure = require("${pkg}");`,
    ]) {
      expect(bad, bad).toMatch(rootImport);
    }
    for (const good of [
      `import * as storage from "${pkg}/storage";`,
      `import { Provider } from "${pkg}/provider";`,
      `const t = require("${pkg}/types");`,
      `// the root, ${pkg}, is never imported`,
    ]) {
      expect(good, good).not.toMatch(rootImport);
    }
  });

  it("finds no root import in index.ts, components/, lib/, tools/, policy/, test/ or scripts/", () => {
    const files = [join(root, "index.ts")];
    for (const dir of sourceDirs) walk(join(root, dir), files);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.filter((f) => rootImport.test(readFileSync(f, "utf8")) || azureadRootImport.test(readFileSync(f, "utf8"))).map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });

  it("recognises a module-index import of azure-native in every form, and no deep or enums path", () => {
    for (const bad of [
      `import * as network from "${pkg}/network";`,
      `import { VirtualNetwork } from '${pkg}/network'`,
      `export * from "${pkg}/storage";`,
      `import "${pkg}/compute";`,
      `const kv = require("${pkg}/keyvault");`,
      `const kv = await import(\`${pkg}/keyvault\`);`,
      `import network = require("${pkg}/network/index");`,
    ]) {
      expect(moduleIndexProblems("x.ts", bad), bad).toHaveLength(1);
    }
    for (const good of [
      `import { VirtualNetwork } from "${pkg}/network/virtualNetwork";`,
      `import { Kind } from "${pkg}/types/enums/storage";`,
      `import { Provider } from "${pkg}/provider";`,
      `const t = require("${pkg}/types");`,
      `// a module path such as ${pkg}/network in prose`,
    ]) {
      expect(moduleIndexProblems("x.ts", good), good).toEqual([]);
    }
  });

  it("names the file, the line and the deep path of every imported name", () => {
    const source = [`import * as pulumi from "@pulumi/pulumi";`, `import * as network from "${pkg}/network";`, `import { Kind, type StorageAccountArgs } from "${pkg}/storage";`, "new network.VirtualNetwork('v', {}); network.getSubnetOutput({});", ""].join("\n");
    expect(moduleIndexProblems("components/x.ts", source)).toEqual([
      `components/x.ts:2: "${pkg}/network" loads the whole module index; import VirtualNetwork from "${pkg}/network/virtualNetwork", getSubnetOutput from "${pkg}/network/getSubnet"`,
      `components/x.ts:3: "${pkg}/storage" loads the whole module index; import Kind from "${pkg}/types/enums/storage", StorageAccountArgs from "${pkg}/storage/storageAccount"`,
    ]);
  });

  it("finds no module-index import of azure-native in index.ts, components/, lib/, tools/, policy/, test/ or scripts/", () => {
    const files = [join(root, "index.ts")];
    for (const dir of sourceDirs) walk(join(root, dir), files);
    expect(files.length).toBeGreaterThan(20);
    expect(files.flatMap((f) => moduleIndexProblems(relative(root, f), readFileSync(f, "utf8")))).toEqual([]);
  });

  it("applies the same rule to @pulumi/azuread", () => {
    expect(`import * as azuread from "${adPkg}";`).toMatch(azureadRootImport);
    expect(`const { Application } = require('${adPkg}');`).toMatch(azureadRootImport);
    expect(`import { Application } from "${adPkg}/application";`).not.toMatch(azureadRootImport);
    expect(`import { Provider } from "${adPkg}/provider";`).not.toMatch(azureadRootImport);
  });
});
