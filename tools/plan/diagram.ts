import type { Plan, PlannedResource } from "./engine";
import { grantRows } from "./render";

// The topology as Mermaid, generated from the plan so the README's diagram cannot go stale:
// Azure resources grouped by resource group (labelled with the component that owns them), and
// every role grant as an edge principal -> scope labelled with the role.

const hidden = new Set(["azure-native:resources:ResourceGroup", "azure-native:authorization:RoleAssignment"]);

function label(text: string): string {
  return text.replace(/"/g, "#quot;");
}

function shortType(type: string): string {
  const [, module, kind] = type.split(":");
  return `${module}/${kind}`;
}

export function renderDiagram(plan: Pick<Plan, "resources">): string {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const azure = plan.resources.filter((r) => r.custom && r.type.startsWith("azure-native:") && !hidden.has(r.type));
  const groups = plan.resources.filter((r) => r.type === "azure-native:resources:ResourceGroup");
  const ids = new Map<string, string>();
  azure.forEach((r, i) => ids.set(r.urn, `r${i}`));
  groups.forEach((g, i) => ids.set(g.urn, `g${i}`));

  const component = (r: PlannedResource): string => {
    const p = byUrn.get(r.parent);
    return p && !p.custom && p.type !== "pulumi:pulumi:Stack" ? ` (${p.type.split(":").pop()} ${p.name})` : "";
  };
  const node = (r: PlannedResource) => `    ${ids.get(r.urn)}["${label(`${r.name}${component(r)}`)}<br/>${shortType(r.type)}"]`;

  const lines = ["flowchart LR"];
  const placed = new Set<string>();
  for (const g of groups) {
    const rgName = String(g.inputs.resourceGroupName ?? g.name);
    lines.push(`  subgraph ${ids.get(g.urn)}["${label(`resource group ${rgName}`)}"]`);
    for (const r of azure.filter((x) => x.inputs.resourceGroupName === rgName)) {
      lines.push(node(r));
      placed.add(r.urn);
    }
    lines.push("  end");
  }
  const rest = azure.filter((r) => !placed.has(r.urn));
  if (rest.length > 0) {
    lines.push(`  subgraph sub["subscription / tenant scope"]`);
    for (const r of rest) lines.push(node(r));
    lines.push("  end");
  }

  // Grants: principal (the resource that owns the principal id) -> scope (the resource whose id it is).
  const byId = new Map<string, string>();
  for (const r of [...groups, ...azure]) if (typeof r.outputs.id === "string") byId.set(r.outputs.id, ids.get(r.urn) as string);
  const byPrincipal = new Map<string, string>();
  for (const r of azure) {
    for (const v of [r.outputs.principalId, r.outputs.objectId, (r.outputs.identity as { principalId?: unknown } | undefined)?.principalId]) {
      if (typeof v === "string" && !byPrincipal.has(v)) byPrincipal.set(v, ids.get(r.urn) as string);
    }
  }
  const external = new Map<string, string>();
  const endpoint = (key: string, map: Map<string, string>, prefix: string) => {
    const known = map.get(key);
    if (known) return known;
    if (!external.has(key)) {
      const id = `x${external.size}`;
      external.set(key, id);
      lines.push(`  ${id}(["${label(`${prefix} ${key}`)}"])`);
    }
    return external.get(key) as string;
  };
  const grants = plan.resources.filter((r) => r.type === "azure-native:authorization:RoleAssignment");
  const rows = grantRows(plan as Plan);
  grants.forEach((g, i) => {
    const from = endpoint(String(g.inputs.principalId ?? ""), byPrincipal, "principal");
    const to = endpoint(String(g.inputs.scope ?? ""), byId, "scope");
    lines.push(`  ${from} -->|"${label(rows[i].role)}"| ${to}`);
  });
  return `${lines.join("\n")}\n`;
}
