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

  it("applies the same rule to @pulumi/azuread", () => {
    expect(`import * as azuread from "${adPkg}";`).toMatch(azureadRootImport);
    expect(`const { Application } = require('${adPkg}');`).toMatch(azureadRootImport);
    expect(`import { Application } from "${adPkg}/application";`).not.toMatch(azureadRootImport);
    expect(`import { Provider } from "${adPkg}/provider";`).not.toMatch(azureadRootImport);
  });
});
