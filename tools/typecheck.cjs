// npm run typecheck: TypeScript 7's tsc with the arguments given (`--build tsconfig.json`), and one
// type checker per CPU, at most four. Plain JavaScript, so that it costs one Node start-up, as
// typescript7's own bin/tsc does.
//
// Why the count: tsc 7 type checks a program with four checkers whatever the machine
// (microsoft/typescript-go, internal/compiler/checkerpool.go, newCheckerPoolWithTracing:
// `checkerCount := 4` unless `--checkers` or `--singleThreaded`). Each checker resolves on its own
// every type its files reach, so checkers beyond the CPUs only repeat work: on 2 CPUs this project
// checks in about 0.84 s with two against 0.96 s with four (docs/performance.md). The count decides
// nothing about the result, and build mode does not record it, so a different count never forces a
// check again.
"use strict";
const { availableParallelism } = require("node:os");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

/**
 * The arguments tsc gets: the caller's, then `--checkers N` (N = min(4, cpus); after them, because
 * `--build` must come first), unless the caller chose the checkers (`--checkers`) or a single thread
 * (`--singleThreaded`) itself.
 * @param {readonly string[]} args
 * @param {number} cpus
 * @returns {string[]}
 */
function tscArgs(args, cpus) {
  if (args.some((a) => a === "--checkers" || a === "--singleThreaded")) return [...args];
  return [...args, "--checkers", String(Math.max(1, Math.min(4, Math.floor(cpus))))];
}

if (require.main === module) {
  // typescript7's bin/tsc reads process.argv from index 2 and replaces this process with the
  // native compiler (process.execve), so nothing of this script stays running.
  process.argv.splice(2, process.argv.length - 2, ...tscArgs(process.argv.slice(2), availableParallelism()));
  import(pathToFileURL(join(__dirname, "..", "node_modules", "typescript7", "lib", "tsc.js")).href).catch((e) => {
    process.stderr.write(`typecheck: cannot start TypeScript 7 (run npm ci): ${e && e.message}\n`);
    process.exit(1);
  });
}

module.exports = { tscArgs };
