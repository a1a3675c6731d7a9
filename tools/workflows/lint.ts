import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse } from "yaml";

// npm run lint [-- DIR]: every workflow under .github/workflows checked by GitHub's own parser
// (@actions/workflow-parser: schema, expressions) and by the house rules below, so a broken or
// insecure workflow fails here, not on GitHub.

/** One problem: file and message. */
export interface LintProblem {
  readonly file: string;
  readonly message: string;
}

type Job = { permissions?: unknown; steps?: { uses?: string; with?: Record<string, unknown> }[]; environment?: unknown };

/** Schema and expression errors from GitHub's workflow parser. */
export async function parserErrors(file: string, content: string): Promise<string[]> {
  // ESM-only package: loaded with a dynamic import from this CommonJS project.
  const { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } = await import("@actions/workflow-parser");
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  if (parsed.value !== undefined) await convertWorkflowTemplate(parsed.context, parsed.value);
  return [...new Set(parsed.context.errors.getErrors().map((e) => e.message))];
}

const pinned = /^[^@\s]+@(v\d+|[0-9a-f]{40})$/;

/** The house rules: least permissions, pinned actions, OIDC only, no stored cloud secret. */
export function houseRules(content: string): string[] {
  const problems: string[] = [];
  const doc = parse(content) as { permissions?: unknown; jobs?: Record<string, Job> };
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

/** Lint every workflow in a directory. */
export async function lintWorkflows(dir: string): Promise<LintProblem[]> {
  const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const out: LintProblem[] = [];
  for (const f of files) {
    const content = readFileSync(join(dir, f), "utf8");
    for (const message of [...(await parserErrors(f, content)), ...houseRules(content)]) out.push({ file: f, message });
  }
  return out;
}

if (require.main === module) {
  const dir = process.argv[2] ?? resolve(__dirname, "../../.github/workflows");
  lintWorkflows(dir).then((problems) => {
    for (const p of problems) process.stderr.write(`${p.file}: ${p.message}\n`);
    process.stderr.write(`lint: ${problems.length} problem(s) in ${dir}\n`);
    process.exit(problems.length > 0 ? 1 : 0);
  });
}
