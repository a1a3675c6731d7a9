import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { rootSchema, secretOnlyKeys } from "../../lib/config";

// npm run docs:config: writes docs/config-reference.md from the config schema itself (lib/config),
// so the reference cannot drift from what the program accepts. It walks the root schema
// generically: a new section (arc, aks, gallery, vm) appears as soon as it joins the root object.
// Types, defaults and allowed values come from z.toJSONSchema; the rule text is the schema's own
// error message (what `npm run plan` prints after "<key>: <value>"); a `.describe()` becomes the
// description.

type Json = {
  type?: string | string[];
  properties?: Record<string, Json>;
  required?: string[];
  items?: Json;
  additionalProperties?: Json | boolean;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  default?: unknown;
  description?: string;
  anyOf?: Json[];
  oneOf?: Json[];
};

type ZodLike = { _zod: { def: Record<string, any> } };

/** The schema under wrappers that do not change what a key accepts (default, optional, pipe...). */
function unwrap(s: ZodLike): ZodLike {
  let cur = s;
  for (let i = 0; i < 20; i++) {
    const d = cur._zod.def;
    const next = d.innerType ?? (d.type === "pipe" ? d.in : undefined);
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

/** The message a schema gives for a bad value ("must be ..."), from its own error or its checks'. */
function ruleOf(s: ZodLike | undefined): string {
  if (!s) return "";
  const texts: string[] = [];
  const collect = (z: ZodLike) => {
    const d = z._zod.def;
    const own = typeof d.error === "function" ? d.error({ code: "invalid_type", input: undefined }) : undefined;
    if (typeof own === "string") texts.push(own);
    for (const c of d.checks ?? []) {
      const m = typeof c._zod?.def?.error === "function" ? c._zod.def.error({ code: "custom", input: undefined }) : undefined;
      if (typeof m === "string") texts.push(m);
    }
  };
  let cur: ZodLike = s;
  for (let i = 0; i < 20; i++) {
    collect(cur);
    const d = cur._zod.def;
    const next = d.innerType ?? (d.type === "pipe" ? d.in : undefined);
    if (!next) break;
    cur = next;
  }
  return [...new Set(texts)].join("; ");
}

/** The rule of a list's items or a map's values, worded as such. */
function elementRule(s: ZodLike | undefined): string {
  const d = s?._zod.def;
  if (d?.type === "array" && d.element && !unwrap(d.element)._zod.def.shape) return `each item ${ruleOf(d.element)}`;
  if (d?.type === "record" && d.valueType && !unwrap(d.valueType)._zod.def.shape) return `each value ${ruleOf(d.valueType)}`;
  return "";
}

function typeOf(j: Json): string {
  if (j.enum) return "string";
  if (j.anyOf || j.oneOf) return (j.anyOf ?? j.oneOf ?? []).map(typeOf).join(" or ");
  if (j.type === "array") return `list of ${j.items ? typeOf(j.items) : "values"}`;
  if (j.type === "object" && !j.properties) return `map of string to ${typeof j.additionalProperties === "object" ? typeOf(j.additionalProperties) : "values"}`;
  if (j.type === "object") return "object";
  return Array.isArray(j.type) ? j.type.join(" or ") : (j.type ?? "any");
}

function allowed(j: Json): string {
  const parts: string[] = [];
  if (j.enum) parts.push(j.enum.map((v) => `\`${String(v)}\``).join(", "));
  if (j.const !== undefined) parts.push(`\`${JSON.stringify(j.const)}\``);
  if (j.pattern) parts.push(`pattern \`${j.pattern}\``);
  if (j.minimum !== undefined || j.maximum !== undefined) parts.push(`${j.minimum ?? "…"} to ${j.maximum ?? "…"}`);
  if (j.minLength !== undefined || j.maxLength !== undefined) parts.push(`length ${j.minLength ?? 0} to ${j.maxLength ?? "…"}`);
  if (j.type === "array" && j.items) {
    const inner = allowed(j.items);
    if (inner) parts.push(`each: ${inner}`);
  }
  if (j.type === "object" && !j.properties && typeof j.additionalProperties === "object") {
    const inner = allowed(j.additionalProperties);
    if (inner) parts.push(`values: ${inner}`);
  }
  return parts.join("; ");
}

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

interface Row {
  key: string;
  type: string;
  required: boolean;
  default: string;
  allowed: string;
  rule: string;
  description: string;
}

/** Rows for a property and everything nested under it. */
function rows(key: string, j: Json, zs: ZodLike | undefined, required: boolean): Row[] {
  const out: Row[] = [];
  const inner = zs ? unwrap(zs) : undefined;
  out.push({
    key,
    type: typeOf(j),
    required: required && j.default === undefined,
    default: j.default === undefined ? "" : `\`${JSON.stringify(j.default)}\``,
    allowed: allowed(j),
    rule: j.properties ? "" : [ruleOf(zs), elementRule(inner)].filter(Boolean).join("; "),
    description: j.description ?? "",
  });
  if (j.properties) {
    const shape = inner?._zod.def.shape as Record<string, ZodLike> | undefined;
    for (const [k, child] of Object.entries(j.properties)) out.push(...rows(`${key}.${k}`, child, shape?.[k], (j.required ?? []).includes(k)));
  } else if (j.type === "array" && j.items?.properties) {
    out.push(...rows(`${key}[]`, j.items, inner?._zod.def.element, true).slice(1));
  } else if (j.type === "object" && typeof j.additionalProperties === "object" && j.additionalProperties.properties) {
    out.push(...rows(`${key}.<name>`, j.additionalProperties, inner?._zod.def.valueType, true).slice(1));
  }
  return out;
}

function table(list: Row[]): string[] {
  return [
    "| Key | Type | Required | Default | Allowed values | Rule (error text) |",
    "| --- | --- | --- | --- | --- | --- |",
    ...list.map((r) => `| \`${r.key}\`${r.description ? `<br>${cell(r.description)}` : ""} | ${cell(r.type)} | ${r.required ? "yes" : "no"} | ${cell(r.default)} | ${cell(r.allowed)} | ${cell(r.rule)} |`),
  ];
}

/**
 * The whole reference as Markdown. `schema` is typed as zod's core schema (what z.toJSONSchema
 * takes): against the classic z.ZodType, passing the root schema made the type checker compare it
 * with every method of ZodType, structurally (~0.3 s of every type check).
 */
export function renderConfigReference(schema: z.core.$ZodType = rootSchema): string {
  const js = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
  const shape = unwrap(schema as unknown as ZodLike)._zod.def.shape as Record<string, ZodLike>;
  const lines = [
    "# Stack config reference",
    "",
    "<!-- Generated by `npm run docs:config` from the schema in lib/config. Do not edit by hand; a test fails when this file differs from the schema. -->",
    "",
    "Every key lives in the `keyless` namespace of a stack file (`Pulumi.<stack>.yaml`). Unknown keys are errors. A bad value stops",
    "`pulumi up` (and `npm run plan`) before any resource is registered, with one line per bad key: `keyless:<key>: <value> <rule>`.",
    "Besides these, every stack sets `azure-native:location` (the Azure region, e.g. `japaneast`) and",
    "`pulumi:disable-default-providers: [\"*\"]`. Cross-key rules (for example, `keyless:production: true` requires",
    "`keyless:keyVault.purgeProtection: true`) are checked after the per-key rules below.",
    "",
  ];
  const top = Object.entries(js.properties ?? {});
  const scalars = top.filter(([, j]) => !j.properties);
  const sections = top.filter(([, j]) => j.properties);
  const secret = (k: string) => (secretOnlyKeys.has(k) ? " Store it with `pulumi config set --secret`." : "");
  lines.push("## Top-level keys", "");
  lines.push(...table(scalars.flatMap(([k, j]) => rows(`keyless:${k}`, { ...j, description: `${j.description ?? ""}${secret(k)}`.trim() || undefined }, shape[k], (js.required ?? []).includes(k)))));
  for (const [k, j] of sections) {
    lines.push("", `## keyless:${k}`, "");
    const all = rows(`keyless:${k}`, j, shape[k], (js.required ?? []).includes(k));
    const head = all[0];
    lines.push(`${head.required ? "Required" : "Optional"} object.${head.default ? ` Default: ${head.default}.` : ""}${head.description ? ` ${head.description}` : ""}${secret(k)}`, "");
    lines.push(...table(all.slice(1)));
  }
  return `${lines.join("\n")}\n`;
}

if (require.main === module) {
  const file = resolve(__dirname, "../../docs/config-reference.md");
  writeFileSync(file, renderConfigReference());
  process.stdout.write(`wrote ${file}\n`);
}
