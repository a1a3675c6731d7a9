import type { PlannedResource } from "./engine";
import type { GrantRow } from "./grants";

// What a change does to a stack, from two --json plans (base branch and pull request): resources
// added, removed and changed (each changed input path with old -> new), and grants added or removed.
// Works on the saved documents only, so secrets stay "[secret]" and unknowns stay unknown.

/** The parts of a --json plan the diff reads. */
export interface PlanDocument {
  readonly stack: string;
  readonly resources: readonly (Pick<PlannedResource, "urn" | "type" | "name" | "inputs"> & Partial<Pick<PlannedResource, "replaceOnChanges" | "deleteBeforeReplace">>)[];
  readonly grants?: readonly Pick<GrantRow, "holder" | "role" | "target">[];
}

export interface InputChange {
  readonly path: string;
  readonly old: unknown;
  readonly new: unknown;
}

export interface PlanDiff {
  readonly added: string[];
  readonly removed: string[];
  /**
   * Changed inputs per resource; `replaced` when one of them is listed in its replaceOnChanges (the
   * engine replaces instead of updating), "delete-first" when the old one goes first (deleteBeforeReplace).
   */
  readonly changed: { readonly urn: string; readonly changes: InputChange[]; readonly replaced?: "delete-first" | "create-first" }[];
  readonly grantsAdded: string[];
  readonly grantsRemoved: string[];
}

const absent = Symbol("absent");

/** Leaves of a value by path (`a.b[0].c`); an empty object or list is a leaf of its own. */
function flatten(v: unknown, path: string, into: Map<string, unknown>): void {
  if (Array.isArray(v) && v.length > 0) v.forEach((x, i) => flatten(x, `${path}[${i}]`, into));
  else if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
    for (const k of Object.keys(v).sort()) flatten((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k, into);
  } else into.set(path, v);
}

/** Whether a property path (`a.b[0].c`) is `prefix` itself or lies below it. */
export function isAtOrBelow(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

export function inputChanges(oldInputs: Record<string, unknown>, newInputs: Record<string, unknown>): InputChange[] {
  const a = new Map<string, unknown>();
  const b = new Map<string, unknown>();
  flatten(oldInputs, "", a);
  flatten(newInputs, "", b);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const out: InputChange[] = [];
  for (const p of paths) {
    const x = a.has(p) ? a.get(p) : absent;
    const y = b.has(p) ? b.get(p) : absent;
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ path: p, old: x, new: y });
  }
  return out;
}

function grantKey(g: Pick<GrantRow, "holder" | "role" | "target">): string {
  return `${g.holder} -> ${g.role} -> ${g.target}`;
}

/** Multiset difference: a grant present twice in one plan and once in the other counts once. */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const k of b) left.set(k, (left.get(k) ?? 0) + 1);
  const out: string[] = [];
  for (const k of a) {
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else out.push(k);
  }
  return out;
}

export function diffPlans(oldPlan: PlanDocument, newPlan: PlanDocument): PlanDiff {
  const before = new Map(oldPlan.resources.map((r) => [r.urn, r]));
  const after = new Map(newPlan.resources.map((r) => [r.urn, r]));
  const added = [...after.keys()].filter((u) => !before.has(u)).sort();
  const removed = [...before.keys()].filter((u) => !after.has(u)).sort();
  const changed: PlanDiff["changed"] = [];
  for (const [urn, r] of [...after].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const o = before.get(urn);
    if (!o) continue;
    const changes = inputChanges(o.inputs ?? {}, r.inputs ?? {});
    if (changes.length === 0) continue;
    // replaceOnChanges names a property path; a change at it or below it replaces the resource.
    const forcing = r.replaceOnChanges ?? [];
    const replaces = changes.some((c) => forcing.some((p) => isAtOrBelow(c.path, p)));
    changed.push(replaces ? { urn, changes, replaced: r.deleteBeforeReplace ? "delete-first" : "create-first" } : { urn, changes });
  }
  const og = (oldPlan.grants ?? []).map(grantKey);
  const ng = (newPlan.grants ?? []).map(grantKey);
  return { added, removed, changed, grantsAdded: minus(ng, og).sort(), grantsRemoved: minus(og, ng).sort() };
}

/** A value as the diff prints it: JSON, long text cut (the full text is in the --json plans). */
function show(v: unknown): string {
  if (v === absent) return "(absent)";
  const s = typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? "undefined";
  return s.length > 120 ? `${s.slice(0, 100)}... (${s.length} chars)` : s;
}

/** `type name` from a URN, for a reader. */
function short(urn: string): string {
  const parts = urn.split("::");
  return `${parts[parts.length - 1]} (${(parts[2] ?? "").split("$").pop()})`;
}

/** Markdown: readable in a terminal and in a GitHub job summary. */
export function renderDiff(d: PlanDiff, stack: string): string {
  const out: string[] = [];
  const total = d.added.length + d.removed.length + d.changed.length + d.grantsAdded.length + d.grantsRemoved.length;
  out.push(`### Plan diff, stack ${stack}: ${total === 0 ? "no change" : `${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, grants +${d.grantsAdded.length} -${d.grantsRemoved.length}`}`);
  if (total === 0) return `${out.join("\n")}\n`;
  out.push("");
  for (const u of d.added) out.push(`- added \`${short(u)}\``);
  for (const u of d.removed) out.push(`- removed \`${short(u)}\``);
  for (const c of d.changed) {
    const how = c.replaced === "delete-first" ? "replaced (the old one deleted first)" : c.replaced === "create-first" ? "replaced" : "changed";
    out.push(`- ${how} \`${short(c.urn)}\``);
    for (const x of c.changes) out.push(`  - \`${x.path}\`: ${show(x.old)} -> ${show(x.new)}`);
  }
  if (d.grantsAdded.length + d.grantsRemoved.length > 0) {
    out.push("");
    out.push("Grants:");
    for (const g of d.grantsAdded) out.push(`- granted: ${g}`);
    for (const g of d.grantsRemoved) out.push(`- revoked: ${g}`);
  }
  return `${out.join("\n")}\n`;
}
