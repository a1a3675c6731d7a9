import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { isBuiltInRoleName } from "../lib/roles";
import { root } from "./support/harness";

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
