import { readFileSync } from "node:fs";
import { parse } from "yaml";

// Reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a program:
// "namespace:key" -> string, objects and lists as JSON. `secure:` values are never decrypted: a
// placeholder stands in and the key is marked secret, as the CLI would mark it.

/** Stands in for every `secure:` value; never a real secret. */
export const secretPlaceholder = "offline-plan-placeholder-secret";

export interface StackConfig {
  /** "namespace:key" -> string value as the Pulumi CLI passes it. */
  readonly values: Record<string, string>;
  /** Keys whose value is (or contains) a `secure:` value. */
  readonly secretKeys: string[];
}

function isSecure(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;
}

/** Replace secure values with the placeholder; report whether any were found. */
function strip(v: unknown): { value: unknown; secret: boolean } {
  if (isSecure(v)) return { value: secretPlaceholder, secret: true };
  if (Array.isArray(v)) {
    const parts = v.map(strip);
    return { value: parts.map((p) => p.value), secret: parts.some((p) => p.secret) };
  }
  if (typeof v === "object" && v !== null) {
    let secret = false;
    // No prototype: a `__proto__` key stays an own key (config validation refuses it by name)
    // instead of silently becoming the object's prototype.
    const out = Object.create(null) as Record<string, unknown>;
    for (const [k, x] of Object.entries(v)) {
      const p = strip(x);
      out[k] = p.value;
      secret ||= p.secret;
    }
    return { value: out, secret };
  }
  return { value: v, secret: false };
}

function toConfigString(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** Project name and the config defaults Pulumi.yaml declares. */
export function readProject(path: string): { name: string; defaults: Record<string, string> } {
  const doc = parse(readFileSync(path, "utf8")) as { name: string; config?: Record<string, unknown> };
  const defaults: Record<string, string> = {};
  for (const [key, decl] of Object.entries(doc.config ?? {})) {
    const full = key.includes(":") ? key : `${doc.name}:${key}`;
    if (typeof decl === "object" && decl !== null && !Array.isArray(decl)) {
      const d = decl as Record<string, unknown>;
      if ("default" in d) defaults[full] = toConfigString(d.default);
      else if ("value" in d) defaults[full] = toConfigString(d.value);
    } else {
      defaults[full] = toConfigString(decl);
    }
  }
  return { name: doc.name, defaults };
}

/** Config of one stack file, over the project's defaults. */
export function readStackConfig(path: string, projectDefaults: Record<string, string> = {}): StackConfig {
  const doc = (parse(readFileSync(path, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const values = Object.assign(Object.create(null) as Record<string, string>, projectDefaults);
  const secretKeys: string[] = [];
  for (const [key, raw] of Object.entries(doc.config ?? {})) {
    const { value, secret } = strip(raw);
    values[key] = toConfigString(value);
    if (secret) secretKeys.push(key);
  }
  return { values, secretKeys: secretKeys.sort() };
}
