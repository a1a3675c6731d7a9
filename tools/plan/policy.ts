import { existsSync, readFileSync } from "node:fs";
import { checkReadiness } from "../../policy/readiness";
import { evaluate, type RuleContext } from "../../policy/rules";
import { isBuiltInRoleName, roleGuid } from "../../lib/roles";
import { UNKNOWN } from "./engine";

// The offline policy check: the policy pack's own rules (policy/rules.ts) run over the offline
// plan's resources (their inputs, as the Pulumi engine hands them to an analyzer). Used by
// `npm run plan -- --policy` and CI; no Pulumi CLI, no cloud.

/** The part of a planned resource the rules read. */
export interface CheckedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly protect: boolean;
  readonly inputs: Record<string, unknown>;
  /** For the readiness rules (policy/readiness.ts): what it waits on, its parent, provider and outputs. */
  readonly dependencies?: readonly string[];
  readonly parent?: string;
  readonly provider?: string;
  readonly outputs?: Record<string, unknown>;
  /** A replacement deletes the old resource first (the deleteBeforeReplace option). */
  readonly deleteBeforeReplace?: boolean;
}

/** Policy pack config in `pulumi preview --policy-pack-config` form: policy name -> its properties. */
export type PolicyPackConfig = Readonly<Record<string, { readonly production?: boolean; readonly allowSubscriptionScopeGrants?: readonly string[] } | string>>;

export interface Violation {
  readonly rule: string;
  readonly urn: string;
  readonly message: string;
}

export interface CheckOptions {
  /** keyless:production of the stack (the pack's `production` config says the same on a real preview). */
  readonly production: boolean;
  /** The policy pack config the real preview gets (policy/config/<stack>.json). */
  readonly config: PolicyPackConfig;
}

function configOf(config: PolicyPackConfig, policy: string): { production?: boolean; allowSubscriptionScopeGrants?: readonly string[] } {
  const c = config[policy];
  return typeof c === "object" && c !== null ? c : {};
}

/** Every mandatory violation in the plan, in plan (URN) order. */
export function checkResources(resources: readonly CheckedResource[], options: CheckOptions): Violation[] {
  const production = options.production || configOf(options.config, "keyless-keyvault-purge-protection").production === true;
  const allow = configOf(options.config, "keyless-rbac-no-subscription-scope").allowSubscriptionScopeGrants ?? [];
  const perResource = resources.flatMap((r) => {
    const context: RuleContext = { name: r.name, protect: r.protect, production, allowSubscriptionScopeGrants: allow };
    return evaluate(r.type, r.inputs as Record<string, any>, context).map(([rule, message]) => ({ rule, urn: r.urn, message }));
  });
  // The readiness rules (policy/readiness.ts) read the dependency graph, after the per-resource rules.
  // They skip a value not known yet, which they are handed as undefined (as the policy pack is at
  // preview), never as the plan's unknown marker: two unknown principal ids are not the same principal.
  const graph = resources.map((r) => ({ ...r, inputs: knownOnly(r.inputs), outputs: r.outputs && knownOnly(r.outputs), dependencies: r.dependencies ?? [] }));
  return [...perResource, ...checkReadiness(graph)];
}

/** A copy with every value the plan marks unknown left out. */
function knownOnly(values: Record<string, unknown>): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (v === UNKNOWN) return undefined;
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return strip(values) as Record<string, unknown>;
}

/** A saved `--json` plan: the preview run's resources and the grant rows named from the realistic run. */
export interface SavedPlan {
  readonly resources: readonly CheckedResource[];
  readonly grants?: readonly { readonly urn?: string; readonly role: string; readonly via?: string }[];
}

/**
 * The resources of a saved plan as the rules read them. At preview a grant's roleDefinitionId is
 * unknown when its scope is (the subscription comes from the scope), but its role is the program's
 * own (lib/roles.ts), which the plan's grant rows name: the rules see that role's definition id.
 */
export function savedPlanResources(plan: SavedPlan): CheckedResource[] {
  const roles = new Map<string, string>();
  for (const g of plan.grants ?? []) if (g.urn !== undefined && g.via === "role assignment" && isBuiltInRoleName(g.role)) roles.set(g.urn, roleGuid(g.role));
  return plan.resources.map((r) => {
    const guid = roles.get(r.urn);
    if (r.type !== "azure-native:authorization:RoleAssignment" || r.inputs.roleDefinitionId !== UNKNOWN || guid === undefined) return r;
    return { ...r, inputs: { ...r.inputs, roleDefinitionId: `/providers/Microsoft.Authorization/roleDefinitions/${guid}` } };
  });
}

/** One line per violation: rule, resource URN, message (two spaces apart). */
export function renderViolations(violations: readonly Violation[]): string {
  return violations.map((v) => `${v.rule}  ${v.urn}  ${v.message}\n`).join("");
}

/** Read a policy pack config file; none (undefined path or missing default) means no config. */
export function readPolicyConfig(path: string | undefined, required: boolean): PolicyPackConfig {
  if (path === undefined || (!required && !existsSync(path))) return {};
  return JSON.parse(readFileSync(path, "utf8")) as PolicyPackConfig;
}
