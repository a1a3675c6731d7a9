// @ts-check
"use strict";
// Runs this repo's TypeScript without type checking and without a build step that could go stale.
// Pulumi.yaml loads it before the program (runtime.options.nodeargs: --require ./tools/runtime/register.cjs,
// typescript: false); `node --require ./tools/runtime/register.cjs file.ts` does the same by hand.
//
// - Only `.ts` files come through here: every `.js` file (the Pulumi SDK, providers, zod) loads at
//   plain Node speed. (tsx hooks every module load and doubles the SDK's load time; see
//   docs/performance.md for the measurements.)
// - Each `.ts` file is transpiled by esbuild (it ships with tsx) to CommonJS, as tsc would emit it
//   with this repo's tsconfig, and cached under a hash of its path, its content and the options:
//   an edited file is transpiled again, an unchanged one is read back.
// - Node's compile cache (V8 code cache, validated by Node against each file's content) is enabled
//   for every module, the SDK included.
// - Both caches live in the user's own cache directory (XDG), never a shared temp directory where
//   another user could plant code. KEYLESS_CACHE_DIR moves them; if they cannot be written, the
//   program still runs, only slower.
// Type checking is `npm run typecheck` (CI runs it before anything is deployed).

const Module = require("node:module");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const cacheRoot =
  process.env.KEYLESS_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "keyless");

// V8 code cache for every CommonJS module (Node >= 22.1). Node keys entries by the file's content
// and its own version, so a changed file is compiled afresh.
const { enableCompileCache, setSourceMapsSupport } = /** @type {any} */ (Module);
if (typeof enableCompileCache === "function") enableCompileCache(path.join(cacheRoot, "v8"));

// KEYLESS_SOURCE_MAPS=1: stack traces point at .ts lines through the inline source maps (Node >=
// 22.14; node_modules keep their maps unread). Off by default: the Pulumi SDK captures a stack
// trace for every promise it creates (runtime/debuggable.js), and mapping those frames costs ~15%
// of the run at fleet scale (docs/performance.md). Without it a trace still names the right .ts
// file and function, at esbuild's line numbers.
if (process.env.KEYLESS_SOURCE_MAPS === "1" && typeof setSourceMapsSupport === "function") {
  setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
}

/** esbuild, loaded only on a cache miss (it starts a helper process). */
let esbuild;

// As tsconfig.json compiles: CommonJS, ES2022 class fields, esModuleInterop. `import()` becomes
// `require()` (as tsc emits it for "module": "commonjs"), so a dynamic import of a .ts file stays
// in this hook.
const options = {
  loader: /** @type {const} */ ("ts"),
  format: /** @type {const} */ ("cjs"),
  target: "node22",
  sourcemap: /** @type {const} */ ("inline"),
  supported: { "dynamic-import": false },
  tsconfigRaw: { compilerOptions: { esModuleInterop: true, useDefineForClassFields: true, verbatimModuleSyntax: false } },
};

const tsCache = path.join(cacheRoot, "ts");
const optionsKey = `${require("esbuild/package.json").version}\0${JSON.stringify(options)}`;

/**
 * The CommonJS code for one .ts file, from the cache when its content was transpiled before.
 * @param {string} filename
 * @returns {string}
 */
function transpile(filename) {
  const source = fs.readFileSync(filename, "utf8");
  const key = createHash("sha256").update(optionsKey).update("\0").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(tsCache, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    // Not transpiled yet.
  }
  esbuild ??= require("esbuild");
  const { code } = esbuild.transformSync(source, { ...options, sourcefile: filename });
  try {
    fs.mkdirSync(tsCache, { recursive: true, mode: 0o700 });
    // Write, then rename: a concurrent reader never sees half a file.
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code, { mode: 0o600 });
    fs.renameSync(tmp, cached);
  } catch {
    // A read-only cache directory only costs speed.
  }
  return code;
}

/** @type {Record<string, (module: { _compile(code: string, filename: string): void }, filename: string) => void>} */
const extensions = /** @type {any} */ (Module)._extensions;
extensions[".ts"] = (module, filename) => module._compile(transpile(filename), filename);

module.exports = { transpile, cacheRoot };
