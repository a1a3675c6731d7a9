import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { roleGuid } from "../lib/roles";
import { renderDiagram } from "../tools/plan/diagram";
import type { GrantRow } from "../tools/plan/grants";
import { type PlannedResource, UNKNOWN } from "../tools/plan/engine";
import { checkResources } from "../tools/plan/policy";
import { planStack, root } from "./support/harness";

// `npm run plan -- --policy` and `--diagram`, as users and CI run them. Config validation already
// rejects a stack file that turns on shared keys, an ACR admin user or a Lighthouse Owner, so the
// failing fixtures are saved plans (the dev plan with one resource's inputs mutated), checked with
// --plan-file exactly as CI checks its plan artifacts.

function plan(...args: string[]) {
  const r = spawnSync(process.execPath, [join(root, "node_modules/tsx/dist/cli.mjs"), join(root, "tools/plan/cli.ts"), ...args], { cwd: root, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

type PlanDoc = { project: string; stack: string; resources: PlannedResource[]; outputs: Record<string, unknown> };
const dev = plan("--stack", "dev", "--json");
const devDoc = (): PlanDoc => JSON.parse(dev.stdout);

function savedPlan(change: (doc: PlanDoc) => void): string {
  const doc = devDoc();
  change(doc);
  const file = join(mkdtempSync(join(tmpdir(), "keyless-policy-")), "plan.json");
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const byType = (doc: PlanDoc, type: string) => doc.resources.find((r) => r.type === type) as PlannedResource;

describe("npm run plan -- --policy", () => {
  it.each(["dev", "prod"])("passes for the %s stack", (stack) => {
    const r = plan("--stack", stack, "--policy");
    expect(r.stderr).toMatch(new RegExp(`^policy: 0 mandatory violation\\(s\\) in \\d+ resources of stack ${stack}\\n$`));
    expect(r.stdout).toBe("");
    expect(r.status).toBe(0);
  });

  it("fails on a plan with shared key access on: rule, resource, message; exit 1", () => {
    const file = savedPlan((doc) => {
      byType(doc, "azure-native:storage:StorageAccount").inputs.allowSharedKeyAccess = true;
    });
    const r = plan("--plan-file", file, "--policy");
    expect(r.stdout).toBe(
      "keyless-storage-shared-key-off  urn:pulumi:dev::keyless::keyless:storage:BlobStorage$azure-native:storage:StorageAccount::storage-st  allowSharedKeyAccess is true; must be false (shared key and SAS authorization off; Azure's default allows it)\n",
    );
    expect(r.status).toBe(1);
  });

  it("fails on a plan with the ACR admin user on", () => {
    const file = savedPlan((doc) => {
      byType(doc, "azure-native:containerregistry:Registry").inputs.adminUserEnabled = true;
    });
    const r = plan("--plan-file", file, "--policy");
    expect(r.stdout).toBe(
      "keyless-acr-admin-user-off  urn:pulumi:dev::keyless::keyless:registry:ContainerRegistry$azure-native:containerregistry:Registry::registry-cr  adminUserEnabled is true; must be false (pull with an identity holding AcrPull)\n",
    );
    expect(r.status).toBe(1);
  });

  it("fails on a plan whose Lighthouse definition authorizes Owner", () => {
    const urn = "urn:pulumi:dev::keyless::azure-native:managedservices:RegistrationDefinition::lighthouse-def";
    const file = savedPlan((doc) => {
      doc.resources.push({
        urn, type: "azure-native:managedservices:RegistrationDefinition", name: "lighthouse-def", custom: true, parent: "", provider: "", protect: false, outputs: {},
        // Waits for its namespace's registration, so only the Owner rule fires (policy/readiness.ts).
        dependencies: doc.resources.filter((r) => r.name === "resource-providers-microsoft.managedservices").map((r) => r.urn),
        inputs: { scope: "/subscriptions/5d3f1a2b-7c4e-4f60-9a8b-1c2d3e4f5a6b", properties: { managedByTenantId: "t", registrationDefinitionName: "gallery", authorizations: [{ principalId: "p", principalIdDisplayName: "ops", roleDefinitionId: roleGuid("Owner") }] } },
      });
    });
    const r = plan("--plan-file", file, "--policy");
    expect(r.stdout).toBe(`keyless-lighthouse-no-owner  ${urn}  properties.authorizations[0] grants Owner; Lighthouse does not allow Owner\n`);
    expect(r.status).toBe(1);
  });

  it("reads a saved plan as the preview it is: unknown ids are no principal, each grant's role comes from its grant row", () => {
    // The saved plan is the preview run, so the admin grant's roleDefinitionId is unknown; without
    // its role from the grant rows every Kubernetes object would seem not to wait for it.
    const file = savedPlan((doc) => {
      doc.resources = doc.resources.filter((r) => r.name !== "aks-deployer-cluster-admin");
    });
    const r = plan("--plan-file", file, "--policy");
    const prefix = "urn:pulumi:dev::keyless::keyless:aks:AksCluster$keyless:aks:AksDemo$kubernetes:core/v1:";
    expect(r.stdout).toBe(
      ["ConfigMap::aks-demo-script", "Namespace::aks-demo-ns", "Pod::aks-demo-pod", "ServiceAccount::aks-demo-sa"]
        .map((o) => `keyless-readiness-kubernetes-gate  ${prefix}${o}  does not wait for the deployer's Azure Kubernetes Service RBAC Cluster Admin grant; the API server answers 403 until it exists\n`)
        .join(""),
    );
    expect(r.status).toBe(1);
  });

  it("reads the stack's policy pack config: production from policy/config/prod.json, and an explicit --policy-config", () => {
    const noPurge = (doc: PlanDoc) => {
      const vault = byType(doc, "azure-native:keyvault:Vault");
      delete (vault.inputs.properties as Record<string, unknown>).enablePurgeProtection;
    };
    const devFile = savedPlan(noPurge);
    expect(plan("--plan-file", devFile, "--policy").status).toBe(0); // dev: not production
    const prodFile = savedPlan((doc) => {
      noPurge(doc);
      (doc as { stack: string }).stack = "prod";
    });
    expect(plan("--plan-file", prodFile, "--policy").stdout).toContain("keyless-keyvault-purge-protection  ");
    const cfg = join(mkdtempSync(join(tmpdir(), "keyless-policy-")), "pack.json");
    writeFileSync(cfg, JSON.stringify({ "keyless-keyvault-purge-protection": { production: true } }));
    const r = plan("--plan-file", devFile, "--policy", "--policy-config", cfg);
    expect(r.status).toBe(1);
    expect(r.stdout.split("\n")[0]).toMatch(/^keyless-keyvault-purge-protection {2}\S+::vault-kv {2}properties.enablePurgeProtection is unset;/);
  });

  it("checks the plan the program really makes, production flags included", async () => {
    const prod = await planStack("prod");
    expect(checkResources(prod.resources, { production: true, config: {} })).toEqual([]);
    expect(prod.resources.find((r) => r.type === "azure-native:keyvault:Vault")?.protect).toBe(true);
  });

  it("rejects --plan-file without --policy", () => {
    const r = plan("--plan-file", "x.json");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("plan: --plan-file goes with --policy or --diff");
  });
});

describe("npm run plan -- --diagram", () => {
  const diagram = plan("--stack", "dev", "--diagram");

  it("prints Mermaid: resources grouped by resource group, owned by their components", () => {
    expect(diagram.status).toBe(0);
    const lines = diagram.stdout.split("\n");
    expect(lines[0]).toBe("flowchart LR");
    // Node ids are positions in the plan; match the labels, which other parts' resources do not shift.
    expect(diagram.stdout).toMatch(/^ {2}subgraph g\d+\["resource group rg-keyless-dev-shared"\]$/m);
    expect(diagram.stdout).toMatch(/^ {4}r\d+\["vault-kv \(KeyVault vault\)<br\/>keyvault\/Vault"\]$/m);
    expect(diagram.stdout).toMatch(/^ {4}r\d+\["storage-st \(BlobStorage storage\)<br\/>storage\/StorageAccount"\]$/m);
    expect(diagram.stdout).not.toMatch(/RoleAssignment|ResourceGroup<br/);
    expect(diagram.stdout).toBe(renderDiagram(devDoc()));
  });

  it("draws each grant as holder -> target labelled with the role, found through property dependencies when ids are unknown", () => {
    const doc = devDoc() as PlanDoc & { grants?: GrantRow[] };
    delete doc.grants; // resolve from the resources alone
    const registry = byType(doc, "azure-native:containerregistry:Registry");
    doc.resources.push(
      { urn: "urn:id", type: "azure-native:managedidentity:UserAssignedIdentity", name: "vm-id", custom: true, parent: "", provider: "", protect: false, dependencies: [], inputs: { resourceGroupName: "rg-keyless-dev-shared" }, outputs: { id: UNKNOWN, principalId: UNKNOWN } },
      {
        urn: "urn:ra",
        type: "azure-native:authorization:RoleAssignment",
        name: "vm-acrpull",
        custom: true,
        parent: "",
        provider: "",
        protect: false,
        dependencies: ["urn:id", registry.urn],
        propertyDependencies: { principalId: ["urn:id"], scope: [registry.urn] },
        inputs: { principalId: UNKNOWN, scope: UNKNOWN, roleDefinitionId: `/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/${roleGuid("AcrPull")}` },
        outputs: {},
      },
    );
    const out = renderDiagram(doc);
    const ids = (name: string) => (new RegExp(`\\s(r\\d+)\\["${name}`).exec(out) as RegExpExecArray)[1];
    expect(out).toContain(`  ${ids("vm-id")} -->|"AcrPull"| ${ids("registry-cr")}`);
  });

  // The lead adds the markers to README.md when merging; until then there is nothing to compare.
  const readmePath = join(root, "README.md");
  const block = existsSync(readmePath) ? /<!-- topology:start -->\n```mermaid\n([\s\S]*?)```\n<!-- topology:end -->/.exec(readFileSync(readmePath, "utf8")) : null;
  it.skipIf(!block)(`is the diagram embedded in the README${block ? "" : " (skipped: README.md has no <!-- topology:start --> block yet)"}`, () => {
    expect(block?.[1]).toBe(diagram.stdout);
  });
});
