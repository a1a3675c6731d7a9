import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isBuiltInRoleName } from "../lib/roles";
import { roleOf } from "../policy/rules";
import { readStackConfig } from "../tools/plan/stack-file";
import { ofType, planProgram, root } from "./support/harness";

// docs/operations.md's least-privilege table names every job of the workflows that touch Azure, and
// every role it names is one the role map knows (or the conditional RBAC administrator role).

const doc = readFileSync(join(root, "docs/operations.md"), "utf8");
// Azure RBAC only: the Microsoft Graph permissions (a subsection of its own) are Entra roles, not role-map entries.
const section = doc.slice(doc.indexOf("### 3. Least-privilege roles"), doc.indexOf("#### Microsoft Graph permission"));
const rows = section.split("\n").filter((l) => l.startsWith("| `"));

describe("least-privilege table per workflow job", () => {
  it.each(["deploy.yml", "preview.yml", "destroy.yml"])("%s: every job has a row", (file) => {
    const jobs = Object.keys((parse(readFileSync(join(root, ".github/workflows", file), "utf8")) as { jobs: Record<string, unknown> }).jobs);
    for (const job of jobs) expect(rows.some((r) => r.startsWith(`| \`${file}\` `) && r.includes(`\`${job}\``)), `${file} ${job}`).toBe(true);
  });

  it("names only roles the role map knows", () => {
    const roles = [...section.matchAll(/\*\*([^*]+)\*\*/g)].map((m) => m[1].replace(/ with a condition$/, "")).filter((r) => r !== "with a condition");
    expect(roles.length).toBeGreaterThan(4);
    for (const role of roles) expect(isBuiltInRoleName(role) || role === "Role Based Access Control Administrator", role).toBe(true);
  });

  it("the workflows that log in to Azure install kubelogin, which the Kubernetes provider and the cluster access check call", () => {
    for (const file of ["deploy.yml", "preview.yml", "destroy.yml"]) {
      const wf = parse(readFileSync(join(root, ".github/workflows", file), "utf8")) as { jobs: Record<string, { steps: { uses?: string }[] }> };
      for (const [name, job] of Object.entries(wf.jobs)) {
        const uses = job.steps.map((s) => s.uses ?? "");
        const login = uses.findIndex((u) => u.startsWith("azure/login@"));
        if (login < 0) continue;
        expect(uses.slice(login).some((u) => u.startsWith("azure/use-kubelogin@")), `${file} ${name}`).toBe(true);
      }
    }
  });
});

describe("the deploy identity's RBAC Administrator condition", () => {
  // An operator builds the condition from this row: a role the program grants and the row leaves out
  // makes the first `pulumi up` fail with 403 on that grant.
  const row = section.split("\n").find((l) => l.startsWith("| Role Based Access Control Administrator, **with a condition**")) ?? "";
  const listed = new Set((row.match(/the ones the program grants: ([^(]+)\(/)?.[1] ?? "").split(/, | and /).map((r) => r.trim()).filter(Boolean));
  const files = [...readdirSync(root).filter((f) => /^Pulumi\..+\.yaml$/.test(f) && f !== "Pulumi.yaml"), ...readdirSync(join(root, "stacks")).map((f) => `stacks/${f}`)].sort();

  it("lists built-in role names only", () => {
    expect(listed.size).toBeGreaterThan(5);
    for (const r of listed) expect(isBuiltInRoleName(r), r).toBe(true);
  });

  it.each(files)("names every role %s grants (if any)", async (file) => {
    const c = readStackConfig(join(root, file));
    const stack = file.replace(/^stacks\//, "").replace(/^Pulumi\./, "").replace(/\.yaml$/, "");
    const plan = await planProgram(c.values, { stack, secretKeys: c.secretKeys });
    const granted = ofType(plan, "azure-native:authorization:RoleAssignment").map((a) => roleOf(a.inputs.roleDefinitionId));
    for (const role of granted) expect(role !== undefined && listed.has(role), `${file}: ${role}`).toBe(true);
  });
});
