import { z } from "zod";

// Building blocks for the config schema. Every rule carries the sentence that ends up in
// "<key>: <value> <rule>", so messages read the same across all sections.

/** A string matching a pattern; `rule` completes "must ..." in the message. */
export function pattern(re: RegExp, rule: string) {
  return z.string({ error: `must be ${rule}` }).regex(re, { error: `must be ${rule}` });
}

/** An integer in [min, max]. */
export function intRange(min: number, max: number) {
  const error = `must be a whole number from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** true or false. */
export function bool() {
  return z.boolean({ error: "must be true or false" });
}

/** One of fixed values. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `must be one of ${values.join(" | ")}` });
}

/**
 * A list whose items are unique under `key`. `item` is any zod schema (z.core.SomeType, what z.array
 * takes): bounding it by the classic z.ZodType made the type checker compare each object schema
 * with every method of ZodType, structurally (a few hundred ms per shape on every check).
 */
export function uniqueList<T extends z.core.SomeType>(item: T, what: string, key: (v: z.output<T>) => string = (v) => String(v)) {
  return z.array(item, { error: `must be a list of ${what}` }).superRefine((items, ctx) => {
    const seen = new Set<string>();
    items.forEach((v, i) => {
      const k = key(v);
      if (seen.has(k)) ctx.addIssue({ code: "custom", path: [i], message: `is listed twice; ${what} must be unique`, input: v });
      seen.add(k);
    });
  });
}

export const guidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A GUID such as a tenant, object or client id. */
export function guid() {
  return pattern(guidPattern, "a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
}

/** A strict object: unknown keys are errors, so a typo is never silently ignored. */
export const strictObject = z.strictObject;

/**
 * Wording for the cases a schema does not word itself (zod's defaults say "Invalid input").
 * Passed per parse, so zod's global configuration is left alone.
 */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case "invalid_type":
      return iss.expected === "object" ? "must be a map of keys to values" : iss.expected === "array" ? "must be a list" : `must be a ${iss.expected}`;
    case "unrecognized_keys":
      return "is not a known key";
    case "invalid_value":
      return `must be one of ${iss.values.map(String).join(" | ")}`;
    default:
      return undefined;
  }
};
