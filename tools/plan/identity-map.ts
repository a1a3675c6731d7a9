import type { GrantRow } from "./grants";

// The identity map: each workload (Arc server, VM, AKS pod, kubelet, another tenant, the deployer)
// -> the identity it signs in with -> (role) -> the resource it reaches. Names only, never GUIDs of
// the mock subscription. Graphviz DOT, rendered to SVG in-process by Graphviz compiled to
// WebAssembly (@viz-js/viz): no browser, no system Graphviz, the same bytes on every machine.

function q(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

const workloadShape: Record<string, string> = {
  "Arc server": "#d9e7fb",
  VM: "#d9e7fb",
  "AKS pod": "#d9e7fb",
  "AKS kubelet": "#d9e7fb",
  "AKS cluster": "#d9e7fb",
  "other tenant": "#fde2c8",
  deployer: "#eeeeee",
  "user-assigned identity": "#d9e7fb",
  principal: "#eeeeee",
};

/** DOT for the grants: deterministic (sorted nodes and edges), one legend. */
export function identityMapDot(grants: readonly GrantRow[], stack: string): string {
  const workloads = new Map<string, string>();
  const identities = new Map<string, string>();
  const resources = new Map<string, string>();
  const uses = new Set<string>();
  const reaches = new Map<string, Set<string>>();
  const id = (map: Map<string, string>, prefix: string, key: string) => {
    if (!map.has(key)) map.set(key, `${prefix}${map.size}`);
    return map.get(key) as string;
  };
  // Ids follow sorted order, so the DOT (and the SVG) do not depend on plan order.
  const sorted = [...grants].sort((a, b) => `${a.workload}|${a.workloadName}|${a.holder}|${a.target}|${a.role}`.localeCompare(`${b.workload}|${b.workloadName}|${b.holder}|${b.target}|${b.role}`));
  for (const g of sorted) {
    const w = id(workloads, "w", `${g.workload}\u0000${g.workloadName}`);
    const i = id(identities, "i", g.holder);
    const r = id(resources, "r", g.target);
    uses.add(`${w} -> ${i}`);
    const k = `${i} -> ${r}`;
    const set = reaches.get(k) ?? new Set<string>();
    set.add(g.via === "Lighthouse delegation" ? `${g.role} (Lighthouse)` : g.role);
    reaches.set(k, set);
  }
  const lines = [
    "digraph identity_map {",
    `  graph [rankdir=LR, fontname="Helvetica", fontsize=12, nodesep=0.25, ranksep=0.9, label=${q(`Who reaches what: stack ${stack} (generated from the offline plan; no secret anywhere)`)}, labelloc=t];`,
    '  node [fontname="Helvetica", fontsize=10, style="filled"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
  ];
  lines.push("  subgraph cluster_legend {");
  lines.push('    label="Legend"; style="rounded,dashed"; color="#999999"; fontsize=10;');
  lines.push('    lw [label="workload\\n(where code runs)", shape=box, fillcolor="#d9e7fb"];');
  lines.push('    li [label="identity\\n(what it signs in as)", shape=ellipse, fillcolor="#e4f4e4"];');
  lines.push('    lr [label="resource\\n(what it reaches)", shape=cylinder, fillcolor="#fff4c2"];');
  lines.push('    lw -> li [label="signs in as", style=dashed];');
  lines.push('    li -> lr [label="role"];');
  lines.push("  }");
  for (const [key, n] of workloads) {
    const [kind, name] = key.split("\u0000");
    lines.push(`  ${n} [label=${q(`${name}\n${kind}`)}, shape=box, fillcolor=${q(workloadShape[kind] ?? "#eeeeee")}];`);
  }
  for (const [holder, n] of identities) lines.push(`  ${n} [label=${q(holder.replace(/ \(/, "\n("))}, shape=ellipse, fillcolor="#e4f4e4"];`);
  for (const [target, n] of resources) lines.push(`  ${n} [label=${q(target.replace(/ \(/, "\n("))}, shape=cylinder, fillcolor="#fff4c2"];`);
  for (const e of [...uses].sort()) lines.push(`  ${e} [style=dashed];`);
  for (const [e, roles] of [...reaches].sort(([a], [b]) => a.localeCompare(b))) lines.push(`  ${e} [label=${q([...roles].sort().join("\n"))}];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** SVG from DOT, in-process (Graphviz as WebAssembly). */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(dot, { format: "svg" });
}
