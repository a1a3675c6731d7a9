import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { z } from "zod";
import { arc, arcSecrets, checkArc } from "./arc";
import { entraIssuerTenant, gallery } from "./gallery";
import { findPlaceholders, placeholderMessage } from "./placeholders";
import { platformShape, reservedTagKeys } from "./platform";
import { errorMap, strictObject } from "./rules";
import { aks, aksIssues } from "./aks";
import { vm, vmIssues } from "./vm";
import { readStackFileFacts, type StackFileFacts } from "./stack-file-facts";

// The one place config is read and validated. Components never read config: they get the typed
// values below. `parseConfig` is pure (table-tested); `loadConfig` feeds it from the Pulumi runtime
// and stops the program, before any resource is registered, with one line per bad key.

const namespace = "keyless";

/** Keys that must be stored encrypted (`pulumi config set --secret`); their values never print. */
export const secretOnlyKeys: ReadonlySet<string> = new Set<string>(["arcSecrets"]);

/** Top-level keys whose raw value is used as is (everything else is JSON-decoded when it can be). */
const stringKeys: ReadonlySet<string> = new Set(["workload", "environment"]);

/** The root schema: every keyless:* key (the config reference, docs/config-reference.md, is generated from it). */
export const rootSchema = strictObject({ ...platformShape, arc: arc.optional(), arcSecrets: arcSecrets.optional(), aks: aks.optional(), gallery: gallery.optional(), vm: vm.optional() }).superRefine((cfg, ctx) => {
  checkArc(cfg, ctx);
  if (cfg.aks) for (const issue of aksIssues(cfg.aks)) ctx.addIssue({ code: "custom", ...issue });
  if (cfg.vm) for (const issue of vmIssues(cfg.vm)) ctx.addIssue({ code: "custom", ...issue });
  if (cfg.production && !cfg.keyVault.purgeProtection) {
    ctx.addIssue({ code: "custom", path: ["keyVault", "purgeProtection"], input: false, message: "must be true when keyless:production is true (a production vault must survive a mistaken purge)" });
  }
});

type Parsed = z.output<typeof rootSchema>;

/** Everything the program needs, validated and typed. */
export interface KeylessConfig extends Omit<Parsed, "environment" | "tags" | "deployerPrincipalType"> {
  /** What runs `pulumi up` (keyless:deployerPrincipalType, or the older keyless:aks.deployerPrincipalType; ServicePrincipal by default). */
  readonly deployerPrincipalType: "User" | "ServicePrincipal";
  /** Pulumi project name. */
  readonly project: string;
  /** Pulumi stack name. */
  readonly stack: string;
  /** Azure region of every resource (azure-native:location). */
  readonly location: string;
  /** keyless:environment, or the stack name. */
  readonly environment: string;
  /** keyless:tags merged with workload, environment and managed-by. */
  readonly tags: Readonly<Record<string, string>>;
}

export type ParseResult = { readonly ok: true; readonly config: KeylessConfig } | { readonly ok: false; readonly errors: readonly string[] };

/** What parseConfig reads: the raw config map as Pulumi holds it ("ns:key" -> string). */
export interface RawConfig {
  /** Every config value, keyed "namespace:key", values as Pulumi stores them (objects as JSON). */
  readonly values: Readonly<Record<string, string>>;
  /** Keys stored as secrets. */
  readonly secretKeys: ReadonlySet<string>;
  readonly project: string;
  readonly stack: string;
  /**
   * What the stack file says beyond the config map, when the program can read it: `secure:` leaves
   * (secret-only keys are then checked leaf by leaf) and names YAML typed as something else.
   */
  readonly stackFile?: StackFileFacts;
}

/**
 * Keys that would reach an object's prototype, or its constructor, when assigned: refused at every
 * level, so `keyless:__proto__: {production: true}` or a `__proto__` map inside a value can never
 * set what the validated config inherits (and so smuggle a plain-text secret past validation).
 */
const prototypeKeys: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** Paths ("a.b[0].c") inside a decoded value that use a prototype key. */
function prototypePaths(v: unknown, path: string): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => prototypePaths(x, `${path}[${i}]`));
  if (v === null || typeof v !== "object") return [];
  return Object.keys(v).flatMap((k) => (prototypeKeys.has(k) ? [`${path}.${k}`] : prototypePaths((v as Record<string, unknown>)[k], `${path}.${k}`)));
}

/** Every leaf (scalar) path inside a decoded value. */
function leafPaths(v: unknown, path: string): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leafPaths(x, `${path}[${i}]`));
  if (v !== null && typeof v === "object") return Object.keys(v).flatMap((k) => leafPaths((v as Record<string, unknown>)[k], `${path}.${k}`));
  return [path];
}

function decode(key: string, raw: string): unknown {
  if (stringKeys.has(key)) return raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function keyPath(path: readonly PropertyKey[]): string {
  let out = `${namespace}:${String(path[0])}`;
  for (const p of path.slice(1)) out += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
  return out;
}

function valueAt(root: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function show(v: unknown): string {
  // A private key pasted where a public one belongs must not reach the terminal or a CI log.
  if (typeof v === "string" && /PRIVATE KEY/.test(v)) return "[private key, not shown]";
  return JSON.stringify(v);
}

/** Checks that need keys outside the keyless namespace (azure-native:tenantId, azure-native:location). */
function crossChecks(cfg: Parsed, values: Readonly<Record<string, string>>): string[] {
  const errors: string[] = [];
  const lighthouse = cfg.gallery?.sharing.lighthouse;
  const ownTenant = values["azure-native:tenantId"];
  // Lighthouse delegates to another tenant; a definition naming the customer's own tenant is
  // refused by ARM. When azure-native:tenantId is not set the LighthouseDelegation component repeats
  // this check against the signed-in tenant before the definition is sent (docs/gallery.md).
  if (lighthouse && ownTenant !== undefined && lighthouse.managedByTenantId.toLowerCase() === ownTenant.toLowerCase()) {
    errors.push(
      `${namespace}:gallery.sharing.lighthouse.managedByTenantId: ${show(lighthouse.managedByTenantId)} must be another tenant than the stack's own (azure-native:tenantId); Lighthouse delegates to a managing tenant, use sharing.rbac inside one tenant`,
    );
  }
  // A managed identity can be an app's federated credential only in the app's own tenant (Entra,
  // "Configure an application to trust a managed identity"); the app lives in this stack's tenant.
  // Without azure-native:tenantId, GalleryAppRegistration repeats the check against the signed-in tenant.
  (cfg.gallery?.sharing.appRegistration?.federatedCredentials ?? []).forEach((c, i) => {
    const issuerTenant = entraIssuerTenant(c.issuer);
    if (issuerTenant !== undefined && ownTenant !== undefined && issuerTenant.toLowerCase() !== ownTenant.toLowerCase()) {
      errors.push(
        `${namespace}:gallery.sharing.appRegistration.federatedCredentials[${i}].issuer: ${show(c.issuer)} must be this stack's tenant (azure-native:tenantId ${show(ownTenant)}); a managed identity can be a federated credential only of an app in its own tenant`,
      );
    }
  });
  // keyless:aks.deployerPrincipalType is the older, AKS-only spelling of keyless:deployerPrincipalType.
  const older = cfg.aks?.deployerPrincipalType;
  if (older !== undefined && cfg.deployerPrincipalType !== undefined && older !== cfg.deployerPrincipalType) {
    errors.push(
      `${namespace}:aks.deployerPrincipalType: ${show(older)} contradicts ${namespace}:deployerPrincipalType ${show(cfg.deployerPrincipalType)}; one identity runs pulumi up: remove keyless:aks.deployerPrincipalType`,
    );
  }
  const location = values["azure-native:location"] ?? "";
  // Direct shared galleries are not available in government clouds (azure-compute-docs
  // virtual-machines/share-gallery-direct.md, "Limitations").
  if (cfg.gallery?.sharing.direct && /^(usgov|usdod)/.test(location)) {
    errors.push(`${namespace}:gallery.sharing.direct: ${show(cfg.gallery.sharing.direct)} is not available in government clouds (azure-native:location ${show(location)}); use sharing.rbac or sharing.lighthouse`);
  }
  return errors;
}

/** Validate raw config; never throws on bad input. */
export function parseConfig(raw: RawConfig): ParseResult {
  const errors: string[] = [...(raw.stackFile?.problems ?? [])];
  // No prototype: a key named __proto__ is an ordinary (refused) key here, never the prototype.
  const input: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [fullKey, value] of Object.entries(raw.values)) {
    const [ns, ...rest] = fullKey.split(":");
    if (ns !== namespace) continue;
    const key = rest.join(":");
    if (prototypeKeys.has(key)) {
      errors.push(`${fullKey}: [value hidden] is not a config key: __proto__, constructor and prototype are refused at any level`);
      continue;
    }
    // `pulumi config set keyless:vm.size x` without --path makes one key with a dot in its name.
    const root = /^([A-Za-z]+)[.[]/.exec(key)?.[1];
    if (root !== undefined && Object.prototype.hasOwnProperty.call(rootSchema.shape, root)) {
      const flags = raw.secretKeys.has(fullKey) ? "--secret --path" : "--path";
      errors.push(`${fullKey}: is a key named "${key}" to Pulumi, not a path into ${namespace}:${root}; set it again with pulumi config set ${flags} '${fullKey}' (and remove this one with pulumi config rm '${fullKey}')`);
      continue;
    }
    const decoded = decode(key, value);
    const protoAt = prototypePaths(decoded, fullKey);
    if (protoAt.length > 0) {
      for (const p of protoAt) errors.push(`${p}: [value hidden] is not a config key: __proto__, constructor and prototype are refused at any level`);
      continue;
    }
    input[key] = decoded;
    if (secretOnlyKeys.has(key) && raw.secretKeys.has(fullKey) && raw.stackFile) {
      // The CLI marks the whole key secret when any leaf is; the stack file says which leaves are.
      // Only a leaf the file holds in plain text is refused: one the file does not hold comes from
      // elsewhere (an imported ESC environment), and the file cannot judge it.
      for (const leaf of leafPaths(decoded, fullKey)) {
        if (raw.stackFile.plainLeaves.has(leaf)) {
          const path = leaf.slice(fullKey.length);
          errors.push(`${leaf}: [value hidden] must be stored as a secret like every value under ${fullKey} (pulumi config set --secret --path '${fullKey}${path}' ...)`);
        }
      }
    }
    if (secretOnlyKeys.has(key) && !raw.secretKeys.has(fullKey)) {
      errors.push(`${fullKey}: [value hidden] must be stored as a secret (pulumi config set --secret ${fullKey} ...)`);
    } else if (!secretOnlyKeys.has(key) && raw.secretKeys.has(fullKey)) {
      // Names, tags and settings reach Azure (and the state) in clear: refuse rather than leak.
      errors.push(`${fullKey}: [secret] is stored as a secret, but keyless passes this key to Azure in clear; store it in plain text`);
    }
  }
  const isSecret = (path: readonly PropertyKey[]) => raw.secretKeys.has(`${namespace}:${String(path[0])}`);

  const location = raw.values["azure-native:location"];
  if (location === undefined) {
    errors.push("azure-native:location: is required: the Azure region to deploy to, such as japaneast");
  } else if (!/^[a-z0-9]+$/.test(location)) {
    errors.push(`azure-native:location: ${show(location)} must be an Azure region name such as japaneast (lowercase letters and digits, no spaces)`);
  }

  // Pulumi.yaml declares keyless:environment with default "" (a declared key without a default
  // would be required in every stack): empty means "use the stack name".
  if (input.environment === "") delete input.environment;
  const environmentFromStack = input.environment === undefined;
  if (environmentFromStack) input.environment = raw.stack;

  // jitless: the config is parsed once per run, and zod's fast path first compiles a parser for each
  // object schema (`new Function`), which costs more than one parse saves (dev stack: 6-8 ms
  // jitless, 10-18 ms with the compile). Same result either way (zod ParseContext.jitless).
  const result = rootSchema.safeParse(input, { error: errorMap, jitless: true });
  if (!result.success) {
    const seen = new Set<string>();
    for (const issue of result.error.issues) {
      const paths = issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
      for (const path of paths) {
        if (path.length === 0) continue;
        const key = keyPath(path);
        if (seen.has(key) || errors.some((e) => e.startsWith(`${keyPath(path.slice(0, 1))}: [secret] is stored`))) continue; // one message per bad key
        seen.add(key);
        const value = valueAt(input, path);
        const shown = isSecret(path) ? "[secret]" : show(value);
        if (issue.code === "unrecognized_keys") {
          errors.push(`${key}: ${shown} ${issue.message}`);
        } else if (value === undefined && issue.message.startsWith("is required")) {
          errors.push(`${key}: ${issue.message}`);
        } else if (value === undefined) {
          errors.push(`${key}: is required and ${issue.message}`);
        } else if (path.length === 1 && path[0] === "environment" && environmentFromStack) {
          errors.push(`${key}: ${shown} (the stack name, used when keyless:environment is not set) ${issue.message}; set keyless:environment`);
        } else {
          errors.push(`${key}: ${shown} ${issue.message}`);
        }
      }
    }
  }
  if (result.success) errors.push(...crossChecks(result.data, raw.values));
  if (errors.length > 0 || !result.success) return { ok: false, errors };

  const cfg = result.data;
  const environment = cfg.environment as string;
  const tags = { ...cfg.tags, workload: cfg.workload, environment, "managed-by": "pulumi" } satisfies Record<(typeof reservedTagKeys)[number], string>;
  return {
    ok: true,
    config: {
      ...cfg,
      environment,
      tags,
      project: raw.project,
      stack: raw.stack,
      location: location as string,
      deployerPrincipalType: cfg.deployerPrincipalType ?? cfg.aks?.deployerPrincipalType ?? "ServicePrincipal",
    },
  };
}

/** Read config from the Pulumi runtime; stop the program with every error if it is invalid. */
export function loadConfig(): KeylessConfig {
  const values = pulumi.runtime.allConfig();
  // isConfigSecret is exported but marked internal in the typings; it reads the same
  // PULUMI_CONFIG_SECRET_KEYS list the CLI passes to every program.
  const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret;
  const secretKeys = new Set(Object.keys(values).filter((k) => isConfigSecret(k)));
  // The stack file, when the program can read it (the CLI runs it in the project directory; the
  // offline plan names the file it planned in KEYLESS_STACK_FILE).
  const stackFile = readStackFileFacts(process.env.KEYLESS_STACK_FILE ?? `Pulumi.${pulumi.getStack()}.yaml`);
  const result = parseConfig({ values, secretKeys, project: pulumi.getProject(), stack: pulumi.getStack(), stackFile });
  if (!result.ok) {
    // RunError: Pulumi prints the message without a stack trace.
    throw new pulumi.RunError(`invalid configuration:\n  ${result.errors.join("\n  ")}`);
  }
  refusePlaceholders(values, secretKeys, stackFile);
  return result.config;
}

/** Test-only switch (test/support/harness.ts): run as `pulumi up` over an example stack file. */
export const allowPlaceholdersOnUp: unique symbol = Symbol.for("keyless.allowPlaceholdersOnUp");

/**
 * Example values (lib/config/placeholders.ts): a warning each at preview and in the offline plan;
 * `pulumi up` stops here, before any resource is registered, with the same lines.
 */
function refusePlaceholders(values: Readonly<Record<string, string>>, secretKeys: ReadonlySet<string>, stackFile?: StackFileFacts): void {
  const lines = findPlaceholders(values, secretKeys).map(placeholderMessage);
  // A secret is never read, but an example ciphertext in the stack file is recognisable as such.
  for (const leaf of [...(stackFile?.exampleSecrets ?? [])].sort()) {
    lines.push(`${leaf}: the stack file holds an example ciphertext; set yours with pulumi config set --secret --path '${leaf}' (for a key file: < ~/.ssh/KEY)`);
  }
  if (lines.length === 0) return;
  if (!pulumi.runtime.isDryRun() && (globalThis as Record<symbol, unknown>)[allowPlaceholdersOnUp] !== true) {
    throw new pulumi.RunError(`the stack still has example values; replace them before pulumi up:\n  ${lines.join("\n  ")}`);
  }
  for (const line of lines) pulumi.log.warn(line);
}
