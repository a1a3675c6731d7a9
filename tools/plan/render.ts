import { builtInRoles } from "../../lib/roles";
import type { Plan, PlannedResource } from "./engine";
import { mockDeployerObjectId } from "./mocks";

// Human-readable plan: the component tree, every role grant, the secrets the stack needs, warnings
// and outputs. Pure functions of the plan, so the text is as deterministic as the JSON.

const roleByGuid = new Map<string, string>(Object.entries(builtInRoles).map(([name, guid]) => [guid, name]));

/** A role assignment as principal, role and scope. */
export interface GrantRow {
  readonly resource: string;
  readonly principal: string;
  readonly principalType: string;
  readonly role: string;
  readonly scope: string;
}

/** Every RoleAssignment in the plan, with principals named after the resource that owns them. */
export function grantRows(plan: Plan): GrantRow[] {
  const owners = new Map<string, string>();
  for (const r of plan.resources) {
    // A role assignment echoes the principal it names; the owner is the identity that has it.
    if (r.type === "azure-native:authorization:RoleAssignment") continue;
    for (const key of ["principalId", "objectId"]) {
      const v = r.outputs[key];
      if (typeof v === "string" && !owners.has(v)) owners.set(v, r.name);
    }
    const kubelet = (r.outputs.identityProfile as { kubeletidentity?: { objectId?: string } } | undefined)?.kubeletidentity?.objectId;
    if (kubelet && !owners.has(kubelet)) owners.set(kubelet, `${r.name} (kubelet)`);
    const identity = r.outputs.identity as { principalId?: string } | undefined;
    if (identity?.principalId && !owners.has(identity.principalId)) owners.set(identity.principalId, `${r.name} (system-assigned)`);
  }
  owners.set(mockDeployerObjectId, "the deploying principal");
  return plan.resources
    .filter((r) => r.type === "azure-native:authorization:RoleAssignment")
    .map((r) => {
      const principal = String(r.inputs.principalId ?? "");
      const guid = String(r.inputs.roleDefinitionId ?? "").split("/").pop() ?? "";
      return {
        resource: r.name,
        principal: owners.get(principal) ? `${owners.get(principal)} (${principal})` : principal,
        principalType: String(r.inputs.principalType ?? "(unset)"),
        role: roleByGuid.get(guid) ?? guid,
        scope: String(r.inputs.scope ?? ""),
      };
    });
}

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
  readonly status: "set (encrypted in the stack file)";
}

export function renderText(plan: Plan, secrets: readonly SecretRow[]): string {
  const out: string[] = [];
  out.push(`Offline plan of ${plan.project}, stack ${plan.stack}: what \`pulumi up\` would create (mock engine, no cloud).`);
  out.push("");
  const custom = plan.resources.filter((r) => r.custom).length;
  out.push(`Resources: ${custom} Azure/Kubernetes/command resources in ${plan.resources.length - custom} components`);
  out.push(...tree(plan));
  out.push("");
  const grants = grantRows(plan);
  out.push(`Role grants: ${grants.length}`);
  if (grants.length > 0) out.push(...table([["PRINCIPAL", "TYPE", "ROLE", "SCOPE"], ...grants.map((g) => [g.principal, g.principalType, g.role, g.scope])]));
  out.push("");
  out.push(`Secrets the stack needs: ${secrets.length === 0 ? "none" : ""}`.trimEnd());
  for (const s of secrets) out.push(`  ${s.key}: ${s.status}`);
  out.push("");
  out.push(`Warnings: ${plan.warnings.length === 0 ? "none" : ""}`.trimEnd());
  for (const w of plan.warnings) out.push(`  ! ${w}`);
  out.push("");
  out.push("Outputs:");
  for (const line of JSON.stringify(plan.outputs, null, 2).split("\n")) out.push(`  ${line}`);
  return `${out.join("\n")}\n`;
}
