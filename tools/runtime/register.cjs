// @ts-check
"use strict";
// Runs this repo's TypeScript without type checking and without a build step that could go stale.
// Pulumi.yaml loads it before the program (runtime.options.nodeargs: --require ./tools/runtime/register.cjs,
// typescript: false); `node --require ./tools/runtime/register.cjs file.ts` does the same by hand.
//
// - Only `.ts` files come through here: every `.js` file (the Pulumi SDK, providers, zod) loads at
//   plain Node speed. (tsx hooks every module load and doubles the SDK's load time;
//   tools/bench/runtimes.ts compares the alternatives.)
// - Each `.ts` file is transpiled by esbuild (it ships with tsx) to CommonJS and cached under a
//   hash of its path, its content and the options: an edited file is transpiled again, an
//   unchanged one is read back, and an entry that fails its own hash check is rebuilt.
// - Stack traces are source-mapped to .ts lines; the SDK's per-promise debug trace is not captured.
// - The SDK's Automation API, dynamic and provider namespaces and its function serialization (the
//   TypeScript compiler, npm's arborist), and zod's translations, load when first used; each
//   resource's aliases are collapsed to URNs when first read (only engines without alias specs do).
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

// Stack traces point at .ts lines through the inline source maps (Node >= 22.14; node_modules keep
// their maps unread). KEYLESS_SOURCE_MAPS=0 turns it off (a trace then names the right .ts file and
// function, at esbuild's line numbers).
const sourceMaps = process.env.KEYLESS_SOURCE_MAPS !== "0" && typeof setSourceMapsSupport === "function";
if (sourceMaps) setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });

// The Pulumi SDK records a stack trace on every promise it creates (@pulumi/pulumi
// runtime/debuggable.js: `new Error().stack` in debuggablePromise) and prints it only in a
// "promise leak" report. Capturing and formatting those traces (mapped through source maps) was
// over half of the program body's time and grows with every resource. So while debuggablePromise
// runs, and only then, Error.stackTraceLimit is 0: the SDK records "Error" instead of a trace,
// everything else it does is unchanged, and every other error (the program's, the SDK's, Node's)
// keeps its full, source-mapped stack. debuggablePromise runs no program code: it only tags the
// promise and chains two handlers, which run later with the normal limit.
// PULUMI_DEBUG_PROMISE_LEAKS=1 (the SDK's own switch for leak debugging) or KEYLESS_PROMISE_STACKS=1
// keeps the full traces.
/** The Pulumi SDK's folder, as it appears in a module's path. */
const sdkDir = `${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
/** @param {...string} parts */
const sdkFile = (...parts) => sdkDir + parts.join(path.sep);
const debuggableFile = sdkFile("runtime", "debuggable.js");
const keepPromiseStacks = Boolean(process.env.PULUMI_DEBUG_PROMISE_LEAKS) || process.env.KEYLESS_PROMISE_STACKS === "1";

/**
 * debuggablePromise with the stack capture turned off around it. The SDK's modules call it through
 * the module's exports (`debuggable_1.debuggablePromise(...)`), so replacing the export reaches them all.
 * @param {{ debuggablePromise?: (p: Promise<unknown>, ctx: unknown) => Promise<unknown> }} exports
 */
function withoutPromiseStacks(exports) {
  const original = exports.debuggablePromise;
  if (typeof original !== "function") return;
  exports.debuggablePromise = function debuggablePromise(p, ctx) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return original(p, ctx);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
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
  // The map names the .ts file without carrying a second copy of it: the code is about half the
  // size (less to hash, compile and keep in memory), and Node reads the .ts file itself when it
  // prints the source line of an uncaught error (lib/internal/source_map/prepare_stack_trace.js,
  // getOriginalSource: sourcesContent, else the file the map names).
  sourcesContent: false,
  supported: { "dynamic-import": false },
  tsconfigRaw: { compilerOptions: { esModuleInterop: true, useDefineForClassFields: true, verbatimModuleSyntax: false } },
};

const tsCache = path.join(cacheRoot, "ts");
const optionsKey = `${require("esbuild/package.json").version}\0${JSON.stringify(options)}`;

// A cache entry is one header line, `//keyless-cache sha256=<hash of the code>`, then the code. An
// entry that is empty, cut short, edited or otherwise not what was written (a full disk, a crash
// mid-write on a file system without atomic rename, a stray edit) fails the check and is
// transpiled again and rewritten, so a bad entry can never run in place of the program.
const HEADER = "//keyless-cache sha256=";

/** @param {string} code */
const sha256 = (code) => createHash("sha256").update(code).digest("hex");

/**
 * The code stored in a cache entry's text, or undefined when the entry does not verify.
 * @param {string} entry
 * @returns {string | undefined}
 */
function readEntry(entry) {
  const eol = entry.indexOf("\n");
  if (!entry.startsWith(HEADER) || eol < 0) return undefined;
  const code = entry.slice(eol + 1);
  return entry.slice(HEADER.length, eol) === sha256(code) ? code : undefined;
}

/**
 * A cache entry's text for the code.
 * @param {string} code
 */
const entryFor = (code) => `${HEADER}${sha256(code)}\n${code}`;

/**
 * The CommonJS code for one .ts file, from the cache when its content was transpiled before and
 * the entry verifies.
 * @param {string} filename
 * @returns {string}
 */
function transpile(filename) {
  const source = fs.readFileSync(filename, "utf8");
  const key = createHash("sha256").update(optionsKey).update("\0").update(filename).update("\0").update(source).digest("hex");
  const cached = path.join(tsCache, `${key}.js`);
  let entry;
  try {
    entry = fs.readFileSync(cached, "utf8");
  } catch {
    // Not transpiled yet.
  }
  const hit = entry === undefined ? undefined : readEntry(entry);
  if (hit !== undefined) return hit;
  esbuild ??= require("esbuild");
  const { code } = esbuild.transformSync(source, { ...options, sourcefile: filename });
  try {
    fs.mkdirSync(tsCache, { recursive: true, mode: 0o700 });
    // Write, then rename: a concurrent reader never sees half a file (and would reject it if it did).
    const tmp = `${cached}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, entryFor(code), { mode: 0o600 });
    fs.renameSync(tmp, cached);
  } catch {
    // A read-only cache directory only costs speed.
  }
  return code;
}

/** @type {Record<string, (module: { _compile(code: string, filename: string): void }, filename: string) => void>} */
const extensions = /** @type {any} */ (Module)._extensions;
extensions[".ts"] = (module, filename) => module._compile(transpile(filename), filename);

// zod's locale index requires all of its ~60 translations (about 60 modules, 30 ms of start-up)
// as soon as zod loads, though only the messages' default locale, English, is ever used: zod's
// schemas import `locales/en` themselves, and lib/config words every message it shows. So the
// index is filled with getters instead, each loading its translation on first use: the same
// names and the same values, loaded only when read. If a zod release words the index differently,
// it loads as usual.
const zodLocalesFile = `${path.sep}zod${path.sep}v4${path.sep}locales${path.sep}index.cjs`;

/**
 * Fills `module.exports` for zod's locale index with lazy getters; false if the file is not worded
 * as expected (it is then left to Node).
 * @param {{ exports: any }} module
 * @param {string} filename
 */
function lazyZodLocales(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  /** @type {Map<string, string>} */
  const files = new Map();
  for (const m of source.matchAll(/var (\w+) = require\("\.\/([\w-]+\.cjs)"\);/g)) files.set(m[1], m[2]);
  const getters = [
    ...source.matchAll(/Object\.defineProperty\(exports, "(\w+)", \{ enumerable: true, get: function \(\) \{ return __importDefault\((\w+)\)\.default; \} \}\);/g),
  ];
  if (files.size === 0 || getters.length !== files.size || getters.some((m) => !files.has(m[2]))) return false;
  const dir = path.dirname(filename);
  const exports = module.exports;
  Object.defineProperty(exports, "__esModule", { value: true });
  for (const [, name, variable] of getters) {
    const file = path.join(dir, /** @type {string} */ (files.get(variable)));
    Object.defineProperty(exports, name, {
      enumerable: true,
      get() {
        const mod = require(file);
        return mod && mod.__esModule ? mod.default : mod;
      },
    });
  }
  return true;
}

// Lazy re-exports in the Pulumi SDK. `require("@pulumi/pulumi")` loads about 765 modules, and
// about 560 of them serve features a program like this one never uses:
// - @pulumi/pulumi runtime/index.js requires its function-serialization modules to re-export
//   serializeFunction, serializeFunctionAsync and computeCodePaths; they pull in the TypeScript
//   compiler (to parse function text) and npm's @npmcli/arborist with pacote, sigstore and tar (to
//   find a closure's packages), about 480 modules. Only dynamic providers and programs that
//   serialize functions use them (dynamic/index.js loads serializeClosure itself, on use).
// - @pulumi/pulumi index.js requires the `automation` (the Automation API: execa, js-yaml),
//   `dynamic` (dynamic providers) and `provider` (writing a provider) namespaces. Nothing in the
//   SDK's own registration path reads them.
// So those exports become getters that load their module on first read: the same names and the
// same values, loaded only when used. Each file is edited only if every expected text is found
// exactly once, and line for line, so stack traces keep their line numbers; if an SDK release
// words a file differently, it loads as usual. KEYLESS_EAGER_SDK=1 turns this off.
/** `automation`, `dynamic` and `provider` in @pulumi/pulumi index.js: two lines each, one lazy line and an empty one. */
const lazyNamespaces = ["automation", "dynamic", "provider"].map((n) => [
  `const ${n} = __importStar(require("./${n}"));\nexports.${n} = ${n};`,
  `let ${n}; Object.defineProperty(exports, "${n}", { enumerable: true, get: function () { return ${n} !== undefined ? ${n} : (${n} = __importStar(require("./${n}"))); } });\n`,
]);
/** The closure exports in @pulumi/pulumi runtime/index.js: five lines, one lazy line and four empty ones. */
const lazyClosure = [
  [
    [
      'var serializeClosure_1 = require("./closure/serializeClosure");',
      "exports.serializeFunctionAsync = serializeClosure_1.serializeFunctionAsync;",
      "exports.serializeFunction = serializeClosure_1.serializeFunction;",
      'var codePaths_1 = require("./closure/codePaths");',
      "exports.computeCodePaths = codePaths_1.computeCodePaths;",
    ].join("\n"),
    [
      ["serializeFunctionAsync", "./closure/serializeClosure"],
      ["serializeFunction", "./closure/serializeClosure"],
      ["computeCodePaths", "./closure/codePaths"],
    ]
      .map(([name, file]) => `Object.defineProperty(exports, "${name}", { enumerable: true, get: function () { return require("${file}").${name}; } });`)
      .join(" ") + "\n".repeat(4),
  ],
];
// Resource aliases collapsed to URNs on first read. The Resource constructor (@pulumi/pulumi
// resource.js) turns every alias into a URN Output at once, and azure-native gives each resource
// one alias per earlier API version (about 30 for a storage account): each collapse builds about
// five Outputs, some thirty promises and a stack trace. Those URNs are read in one place only,
// allAliases(), which the SDK calls only when the engine cannot take aliases as specs
// (runtime/resource.js prepareResource: `!monitorSupportsStructuredAliases`); an engine that can
// (every Pulumi CLI since 2022, pulumi/pulumi#10819, and the mock engine) is sent `opts.aliases`
// as they are. So `__aliases` becomes a getter that collapses the same aliases, with the same name,
// type and parent, when first read, as the Python SDK does for old engines (pulumi/pulumi#12015).
// It was about 30% of the dev stack's start-up and a third of its memory. Six lines become one and
// five empty ones.
const lazyAliases = [
  [
    [
      "        this.__aliases = [];",
      "        if (opts.aliases) {",
      "            for (const alias of opts.aliases) {",
      "                this.__aliases.push(collapseAliasToUrn(alias, name, t, parent));",
      "            }",
      "        }",
      "",
    ].join("\n"),
    '        const keylessAliases = opts.aliases ? [...opts.aliases] : []; let keylessCollapsed; Object.defineProperty(this, "__aliases", { configurable: true, enumerable: true, get: () => (keylessCollapsed ??= keylessAliases.map((alias) => collapseAliasToUrn(alias, name, t, parent))), set: (v) => { keylessCollapsed = v; } });\n' +
      "\n".repeat(5),
  ],
];
/** @type {Map<string, string[][]>} file suffix -> [eager text, lazy text] pairs */
const lazySdkExports = new Map([
  [sdkFile("index.js"), lazyNamespaces],
  [sdkFile("runtime", "index.js"), lazyClosure],
  [sdkFile("resource.js"), lazyAliases],
]);
const eagerSdk = process.env.KEYLESS_EAGER_SDK === "1";

/**
 * Compiles the file with its eager re-exports made lazy; false if any expected text is missing or
 * found twice (the file is then left to Node).
 * @param {{ _compile(code: string, filename: string): void }} module
 * @param {string} filename
 * @param {string[][]} edits
 */
function withLazyExports(module, filename, edits) {
  let source = fs.readFileSync(filename, "utf8");
  for (const [eager, lazy] of edits) {
    const at = source.indexOf(eager);
    if (at < 0 || source.indexOf(eager, at + 1) >= 0) return false;
    source = source.slice(0, at) + lazy + source.slice(at + eager.length);
  }
  module._compile(source, filename);
  return true;
}

// Each patch acts once, on its own file (a few string comparisons per .js file).
const loadJs = extensions[".js"];
/** @type {(module: any, filename: string) => void} */
const patched = function (module, filename) {
  if (filename.endsWith(zodLocalesFile) && lazyZodLocales(module, filename)) return;
  if (!eagerSdk && filename.includes(sdkDir)) {
    for (const [suffix, edits] of lazySdkExports) if (filename.endsWith(suffix) && withLazyExports(module, filename, edits)) return;
  }
  loadJs.call(this, module, filename);
  if (!keepPromiseStacks && filename.endsWith(debuggableFile)) withoutPromiseStacks(module.exports);
};
extensions[".js"] = patched;

module.exports = { transpile, cacheRoot, readEntry, entryFor };
