import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { houseRules } from "../tools/workflows/lint";
import { root } from "./support/harness";

// The GitHub Actions workflows: GitHub's own parser and the house rules find nothing, and each
// workflow does what docs/operations.md says it does.

const dir = join(root, ".github/workflows");
const load = (name: string) => parse(readFileSync(join(dir, name), "utf8"));

/** npm run lint, as CI runs it (a child process: the parser is ESM with JSON imports, which tsx loads). */
function lint(workflowDir: string) {
  const r = spawnSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "tools/workflows/lint.ts"), workflowDir], { cwd: root, encoding: "utf8" });
  return { status: r.status, lines: r.stderr.trim().split("\n") };
}

describe("every workflow", () => {
  it("passes @actions/workflow-parser and the house rules", () => {
    expect(lint(dir)).toEqual({ status: 0, lines: [`lint: 0 problem(s) in ${dir}`] });
  });

  it("the linter catches a broken or insecure workflow", () => {
    const broken = ["on: push", "jobs:", "  a:", "    runs-on: ubuntu-latest", "    permissionz: {}", "    steps:", "      - uses: azure/login@main", "        with:", "          creds: ${{ secrets.AZURE_CLIENT_SECRET }}", "      - run: echo ${{ github.event.nope( }}"].join("\n");
    const brokenDir = mkdtempSync(join(tmpdir(), "keyless-wf-"));
    writeFileSync(join(brokenDir, "broken.yml"), broken);
    const r = lint(brokenDir);
    expect(r.status).toBe(1);
    expect(r.lines.slice(0, 2)).toEqual(["broken.yml: broken.yml (Line: 5, Col: 5): Unexpected value 'permissionz'", "broken.yml: broken.yml (Line: 10, Col: 14): Unexpected symbol: '('"]);
    expect(r.lines).toHaveLength(2 + 9 + 1);
    expect(houseRules(broken)).toEqual([
      "no top-level permissions: set the least the workflow needs ({} or contents: read)",
      "uses secrets.AZURE_CLIENT_SECRET: keyless workflows hold no stored secret (Azure and Pulumi Cloud log in through OIDC)",
      "job a: no permissions block",
      "job a: azure/login@main is not pinned to a major version or a commit SHA",
      "job a: azure/login with a stored credential; use OIDC (client-id, tenant-id, subscription-id)",
      "job a: azure/login without client-id",
      "job a: azure/login without tenant-id",
      "job a: azure/login without subscription-id",
      "job a: azure/login needs permissions id-token: write (OIDC)",
    ]);
  });
});

describe("pr.yml", () => {
  const wf = load("pr.yml");
  it("runs on every pull request with read-only permissions and no cloud login", () => {
    expect(Object.keys(wf.on)).toEqual(["pull_request"]);
    expect(wf.jobs.check.permissions).toEqual({ contents: "read" });
    const text = readFileSync(join(dir, "pr.yml"), "utf8");
    expect(text).not.toMatch(/secrets\.|azure\/login|id-token/);
  });

  it("installs, typechecks, lints, tests, plans and policy-checks every stack file, and uploads the plans", () => {
    const runs = wf.jobs.check.steps.map((s: { run?: string; uses?: string }) => s.run ?? s.uses).join("\n");
    for (const part of ["npm ci", "npm run typecheck", "npm run lint", "shellcheck", "npm test", "for file in Pulumi.*.yaml stacks/*.yaml", "--json >", "--config-file \"$file\" --policy", "actions/upload-artifact@v4"]) expect(runs).toContain(part);
  });
});

describe("preview.yml", () => {
  const job = load("preview.yml").jobs.preview;
  it("runs only for pull requests from this repository, with OIDC and a PR comment", () => {
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.permissions).toEqual({ "id-token": "write", contents: "read", "pull-requests": "write" });
    const pulumi = job.steps.find((s: { uses?: string }) => s.uses === "pulumi/actions@v6");
    expect(pulumi.with).toMatchObject({ command: "preview", policyPacks: "policy", policyPackConfigs: "policy/config/${{ matrix.stack }}.json", "comment-on-pr": true });
    expect(job.strategy.matrix.stack).toEqual(["dev", "prod"]);
  });
});

describe("deploy.yml", () => {
  const wf = load("deploy.yml");
  it("ups dev on push to main, then prod behind the prod environment", () => {
    expect(wf.on).toEqual({ push: { branches: ["main"] } });
    expect(wf.jobs.dev.environment).toBe("dev");
    expect(wf.jobs.prod).toMatchObject({ needs: "dev", environment: "prod" });
    for (const job of ["dev", "prod"]) {
      const up = wf.jobs[job].steps.find((s: { uses?: string }) => s.uses === "pulumi/actions@v6");
      expect(up.with).toMatchObject({ command: "up", policyPacks: "policy", policyPackConfigs: `policy/config/${job}.json` });
    }
  });
});

describe("destroy.yml", () => {
  const wf = load("destroy.yml");
  const check = wf.jobs.destroy.steps.find((s: { name?: string }) => s.name === "Check the confirmation and the production flag").run as string;

  it("is manual, with the stack as a choice and a typed confirmation", () => {
    expect(wf.on.workflow_dispatch.inputs.stack).toMatchObject({ type: "choice", options: ["dev", "prod"] });
    expect(wf.on.workflow_dispatch.inputs.confirm).toMatchObject({ type: "string", required: true });
  });

  /** Run the workflow's own check script against a stack file. */
  function runCheck(stack: string, confirm: string, lifted: boolean, stackFile: string) {
    const cwd = mkdtempSync(join(tmpdir(), "keyless-destroy-"));
    writeFileSync(join(cwd, `Pulumi.${stack}.yaml`), stackFile);
    const r = spawnSync("bash", ["-c", check], { cwd, encoding: "utf8", env: { PATH: process.env.PATH, STACK: stack, CONFIRM: confirm, LIFTED: String(lifted) } });
    return { status: r.status, out: r.stdout.trim() };
  }

  it("refuses a wrong confirmation, a production stack file, and prod without protections-lifted", () => {
    const prodFile = readFileSync(join(root, "Pulumi.prod.yaml"), "utf8");
    const lifted = prodFile.replace("keyless:production: true", "keyless:production: false");
    expect(runCheck("dev", "prod", false, "config: {}\n")).toEqual({ status: 1, out: '::error::confirmation "prod" does not match the stack name "dev"; nothing destroyed' });
    expect(runCheck("prod", "prod", true, prodFile)).toEqual({ status: 1, out: "::error::Pulumi.prod.yaml still sets keyless:production: true; set it to false and deploy first (docs/operations.md, Teardown)" });
    expect(runCheck("prod", "prod", false, lifted)).toEqual({ status: 1, out: "::error::destroying prod needs protections-lifted ticked (after its protections were lifted and deployed)" });
    expect(runCheck("prod", "prod", true, lifted).status).toBe(0);
    expect(runCheck("dev", "dev", false, readFileSync(join(root, "Pulumi.dev.yaml"), "utf8")).status).toBe(0);
  });
});
