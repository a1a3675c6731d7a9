import { type Plan, type PlannedResource, UNKNOWN } from "./engine";
import { displayScope, type GrantRow, grantRows } from "./grants";

// Human-readable plan: the component tree, every role grant (one row per grant, holder named), the
// identity x resource matrix, what runs on machines during `pulumi up`, the secrets the stack needs,
// warnings and outputs. Pure functions of the plan, so the text is as deterministic as the JSON.
// Values only Azure knows after `pulumi up` print as UNKNOWN, never as a mock value.

export type { GrantRow } from "./grants";

function tree(plan: Plan): string[] {
  const children = new Map<string, PlannedResource[]>();
  for (const r of plan.resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      const flags = [r.protect ? "protected" : "", r.custom ? "" : "component"].filter(Boolean);
      lines.push(`${"  ".repeat(depth)}+ ${r.name}  ${r.type}${flags.length ? `  [${flags.join(", ")}]` : ""}`);
      walk(r.urn, depth + 1);
    }
  };
  walk("", 1);
  return lines;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()}`);
}

/** Secrets the stack consumes: each config key and whether the stack file sets it. */
export interface SecretRow {
  readonly key: string;
  readonly status: "set (encrypted in the stack file)" | "example ciphertext in the stack file: set yours with pulumi config set --secret";
}

/** The one count of a plan, the same in the text, --json, --policy and --diagram: every registration. */
export function resourceCount(plan: Pick<Plan, "resources">): string {
  const providers = plan.resources.filter((r) => r.type.startsWith("pulumi:providers:")).length;
  const custom = plan.resources.filter((r) => r.custom).length - providers;
  const stacks = plan.resources.filter((r) => r.type === "pulumi:pulumi:Stack").length;
  const components = plan.resources.length - custom - providers - stacks;
  return `${plan.resources.length} resources (${custom} Azure/Kubernetes/command resources, ${providers} providers, ${components} components and the stack)`;
}

/** Identity x resource: one row per holder, one column per target, the roles in the cells. */
export function roleMatrix(grants: readonly GrantRow[]): string[][] {
  const holders = [...new Set(grants.map((g) => g.holder))].sort();
  const targets = [...new Set(grants.map((g) => g.target))].sort();
  const cells = new Map<string, string[]>();
  for (const g of grants) {
    const k = `${g.holder}\u0000${g.target}`;
    const list = cells.get(k) ?? [];
    if (!list.includes(g.role)) list.push(g.role);
    cells.set(k, list);
  }
  return [["IDENTITY \\ RESOURCE", ...targets], ...holders.map((h) => [h, ...targets.map((t) => (cells.get(`${h}\u0000${t}`) ?? []).sort().join(", ") || "-")])];
}

const runTypes: Record<string, string> = {
  "azure-native:hybridcompute:MachineRunCommand": "run command (Arc)",
  "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": "run command (VM)",
  "command:remote:Command": "SSH command",
};

/** The machine a resource acts on: its inputs' machine or VM name, else the ArcServer component it sits in. */
function machineOf(byUrn: Map<string, PlannedResource>, r: PlannedResource): string {
  for (const key of ["machineName", "vmName"]) {
    const v = r.inputs[key];
    if (typeof v === "string" && v !== UNKNOWN) return v;
    // Unknown at preview when it is read from the machine resource: name it from that resource's inputs.
    for (const urn of r.propertyDependencies?.[key] ?? []) {
      const from = byUrn.get(urn)?.inputs[key];
      if (typeof from === "string" && from !== UNKNOWN) return from;
    }
  }
  const parent = byUrn.get(r.parent);
  const fleet = parent ? byUrn.get(parent.parent) : undefined;
  if (parent?.type === "keyless:arc:ArcServer") return fleet && parent.name.startsWith(`${fleet.name}-`) ? parent.name.slice(fleet.name.length + 1) : parent.name;
  return UNKNOWN;
}

/** Commands and checks that run during `pulumi up`: what, where, and where the result will appear. */
export function runRows(plan: Pick<Plan, "resources">): string[][] {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const rows: string[][] = [];
  for (const r of plan.resources) {
    const kind = runTypes[r.type];
    if (!kind) continue;
    const machine = machineOf(byUrn, r);
    if (r.type === "command:remote:Command") rows.push([r.name, kind, machine, "inputs.create (inputs.delete on destroy)", "the command's stdout/stderr"]);
    else rows.push([r.name, kind, machine, String(r.inputs.runCommandName ?? r.name), "instanceView: executionState, exitCode, output"]);
  }
  return rows;
}

/** Paths of stack outputs whose key matches (e.g. where a check's result is exported). */
function outputPaths(v: unknown, path: string, match: (key: string) => boolean): string[] {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return [];
  const out: string[] = [];
  for (const [k, x] of Object.entries(v)) {
    const p = path ? `${path}.${k}` : k;
    if (match(k)) out.push(p);
    else out.push(...outputPaths(x, p, match));
  }
  return out;
}

export function renderText(plan: Plan, secrets: readonly SecretRow[], grants: readonly GrantRow[] = grantRows(plan)): string {
  const out: string[] = [];
  out.push(`Offline plan of ${plan.project}, stack ${plan.stack}: what \`pulumi up\` would create (mock engine, no cloud).`);
  out.push(`Values Azure only knows after \`pulumi up\` (ids, principal ids, results) show as ${UNKNOWN}.`);
  out.push("");
  out.push(`Resources: ${resourceCount(plan)}`);
  out.push(...tree(plan));
  out.push("");
  const vias = [...new Set(grants.map((g) => g.via))].sort();
  out.push(`Role grants: ${grants.length}${vias.some((v) => v !== "role assignment") ? ` (${vias.join(", ")})` : ""}`);
  if (grants.length > 0) out.push(...table([["HOLDER", "TYPE", "ROLE", "REACHES", "SCOPE"], ...grants.map((g) => [g.holder, g.principalType, g.role, g.target, g.scope])]));
  out.push("");
  if (grants.length > 0) {
    out.push("Who reaches what (identity x resource):");
    out.push(...table(roleMatrix(grants)));
    out.push("");
  }
  const runs = runRows(plan);
  out.push(`Runs on machines during \`pulumi up\`: ${runs.length === 0 ? "none" : "nothing has run yet; each result appears on its resource after `pulumi up`"}`);
  if (runs.length > 0) out.push(...table([["RESOURCE", "KIND", "ON", "RUNS", "RESULT AFTER `pulumi up`"], ...runs]));
  const reported = outputPaths(plan.outputs, "", (k) => /verification/i.test(k));
  const shown = reported.length > 5 ? [...reported.slice(0, 3), `... (${reported.length} in all)`] : reported;
  if (runs.length > 0 && reported.length > 0) out.push(`  and in the stack outputs (\`pulumi stack output --json\`): ${shown.join(", ")}`);
  out.push("");
  out.push(`Secrets the stack needs: ${secrets.length === 0 ? "none" : ""}`.trimEnd());
  for (const s of secrets) out.push(`  ${s.key}: ${s.status}`);
  out.push("");
  out.push(`Warnings: ${plan.warnings.length === 0 ? "none" : ""}`.trimEnd());
  for (const w of plan.warnings) out.push(`  ! ${w}`);
  out.push("");
  out.push("Outputs:");
  for (const line of displayScope(JSON.stringify(plan.outputs, null, 2)).split("\n")) out.push(`  ${line}`);
  return `${out.join("\n")}\n`;
}
