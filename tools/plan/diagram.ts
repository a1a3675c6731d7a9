import type { Plan, PlannedResource } from "./engine";
import { type GrantRow, grantRows, resourceLabel } from "./grants";

// The topology as Mermaid, generated from the plan so the README's diagram cannot go stale:
// Azure resources grouped by resource group (labelled with the component that owns them), and
// every role grant as an edge holder -> target labelled with the role, both by name (the holders and
// targets come from the grants, which name them from the plan: no GUID, no mock subscription id).

const hidden = new Set(["azure-native:resources:ResourceGroup", "azure-native:authorization:RoleAssignment"]);

function label(text: string): string {
  return text.replace(/"/g, "#quot;");
}

function shortType(type: string): string {
  const [, module, kind] = type.split(":");
  return `${module}/${kind}`;
}

export function renderDiagram(plan: Pick<Plan, "resources"> & { grants?: readonly GrantRow[] }, grants: readonly GrantRow[] = plan.grants ?? grantRows(plan)): string {
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
  // A resource's group: its resourceGroupName when known, else the ResourceGroup that input comes
  // from (at preview a new group's name is an output, unknown until apply).
  const groupNames = new Map(groups.map((g) => [String(g.inputs.resourceGroupName ?? g.name), g.urn]));
  const groupUrns = new Set(groups.map((g) => g.urn));
  const groupOf = (r: PlannedResource): string | undefined => {
    const v = r.inputs.resourceGroupName;
    if (typeof v === "string" && groupNames.has(v)) return groupNames.get(v);
    return (r.propertyDependencies?.resourceGroupName ?? []).find((u) => groupUrns.has(u));
  };
  const inGroup = new Map<string, PlannedResource[]>();
  for (const r of azure) {
    const g = groupOf(r);
    if (g === undefined) continue;
    const list = inGroup.get(g) ?? [];
    list.push(r);
    inGroup.set(g, list);
  }
  for (const g of groups) {
    const rgName = String(g.inputs.resourceGroupName ?? g.name);
    lines.push(`  subgraph ${ids.get(g.urn)}["${label(`resource group ${rgName}`)}"]`);
    for (const r of inGroup.get(g.urn) ?? []) {
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

  // Grants: holder -> target, by name. A target that is a node of the diagram is linked to it.
  const byLabel = new Map<string, string>();
  for (const r of [...groups, ...azure]) byLabel.set(resourceLabel(r), ids.get(r.urn) as string);
  const external = new Map<string, string>();
  const endpoint = (key: string, prefix: string) => {
    const known = byLabel.get(key);
    if (known) return known;
    if (!external.has(key)) {
      const id = `${prefix}${external.size}`;
      external.set(key, id);
      lines.push(`  ${id}(["${label(key)}"])`);
    }
    return external.get(key) as string;
  };
  for (const g of grants) {
    const from = endpoint(g.holder, "p");
    const to = endpoint(g.target, "x");
    lines.push(`  ${from} -->|"${label(g.role)}"| ${to}`);
  }
  return `${lines.join("\n")}\n`;
}
