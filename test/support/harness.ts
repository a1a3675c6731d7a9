import { resolve } from "node:path";
import { vi } from "vitest";
import { type Plan, type PlannedResource, runProgram } from "../../tools/plan/engine";
import { readProject, readStackConfig } from "../../tools/plan/stack-file";

// The one shared mock setup: every test runs the real program (or a small program of its own)
// through the offline plan's engine and mocks (tools/plan/mocks.ts), which record every
// registration, return realistic computed outputs by type and throw on an unmocked invoke.

export const root = resolve(__dirname, "../..");
const project = readProject(resolve(root, "Pulumi.yaml"));

/** Config of a stack file in the repo, as the Pulumi CLI would pass it. */
export function stackConfig(stack: string): { values: Record<string, string>; secretKeys: string[] } {
  return readStackConfig(resolve(root, `Pulumi.${stack}.yaml`), project.defaults);
}

/** A copy of `values` with keys set (objects JSON-encoded, as Pulumi stores them) or removed (undefined). */
export function withConfig(values: Record<string, string>, changes: Record<string, unknown>): Record<string, string> {
  const out = { ...values };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}

export interface PlanOptions {
  readonly stack?: string;
  readonly secretKeys?: readonly string[];
  readonly preview?: boolean;
  /**
   * With preview: false the program refuses example values (lib/config/placeholders.ts) as
   * `pulumi up` does; true lets a test run an example stack file as `pulumi up` all the same.
   */
  readonly allowPlaceholders?: boolean;
  /** Values only Azure computes are unknown at preview, as in `pulumi preview` (default: realistic mock values). */
  readonly previewUnknowns?: boolean;
  /** Who the run is signed in as (default: the stack's deployer, see tools/plan/engine.ts). */
  readonly signedInObjectId?: string;
}

/**
 * The dev stack file's secret keys that `values` still holds unchanged: what the CLI would mark secret
 * for values derived from the dev stack (the default when a test names no secret keys).
 */
export function devSecretKeys(values: Readonly<Record<string, string>>): string[] {
  const dev = stackConfig("dev");
  return dev.secretKeys.filter((k) => values[k] !== undefined && values[k] === dev.values[k]);
}

/** Plan the real program (index.ts) with these config values. */
export async function planProgram(values: Record<string, string>, options: PlanOptions = {}): Promise<Plan> {
  return runProgram({
    project: project.name,
    stack: options.stack ?? "dev",
    values,
    secretKeys: options.secretKeys ?? devSecretKeys(values),
    preview: options.preview,
    previewUnknowns: options.previewUnknowns,
    signedInObjectId: options.signedInObjectId,
    load: async () => {
      vi.resetModules(); // a fresh program each run; the SDK itself stays loaded
      // A global symbol (lib/config/index.ts allowPlaceholdersOnUp) survives resetModules.
      (globalThis as Record<symbol, unknown>)[Symbol.for("keyless.allowPlaceholdersOnUp")] = options.allowPlaceholders === true;
      return import("../../index");
    },
  });
}

/** Plan a repo stack file as is. */
export async function planStack(stack: string): Promise<Plan> {
  const c = stackConfig(stack);
  return planProgram(c.values, { stack, secretKeys: c.secretKeys });
}

/** Plan a small program of a test's own (e.g. one component with its provider), as a preview unless told otherwise. */
export async function planInline(body: () => Record<string, unknown> | void, stack = "test", options: Pick<PlanOptions, "preview" | "previewUnknowns"> = {}): Promise<Plan> {
  return runProgram({ project: project.name, stack, values: {}, secretKeys: [], preview: options.preview, previewUnknowns: options.previewUnknowns, load: async () => body() ?? {} });
}

/** Every resource of a type. */
export function ofType(plan: Plan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

/** The one resource with this type and logical name; fails loudly otherwise. */
export function resource(plan: Plan, type: string, name: string): PlannedResource {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}: ${ofType(plan, type).map((r) => r.name).join(", ")}`);
  return found[0];
}

/** URNs a resource waits on, directly or through others and providers (parents excluded: they never make a child wait). */
export function transitiveDependencies(plan: Plan, urn: string): Set<string> {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  // A resource also waits for its provider (a Kubernetes provider waits for its cluster's kubeconfig).
  const start = byUrn.get(urn);
  const stack = [...(start?.dependencies ?? []), ...(start?.provider ? [start.provider] : [])];
  while (stack.length > 0) {
    const next = stack.pop() as string;
    if (seen.has(next)) continue;
    seen.add(next);
    const r = byUrn.get(next);
    if (!r) continue;
    stack.push(...r.dependencies);
    if (r.provider) stack.push(r.provider);
    // Waiting on a component means waiting on everything inside it.
    for (const child of plan.resources) if (child.parent === next) stack.push(child.urn);
  }
  return seen;
}
