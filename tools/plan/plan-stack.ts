import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, relative, resolve } from "node:path";
import { isAtOrBelow, type PlanDocument } from "./diff";
import { type Plan, runProgram, UNKNOWN } from "./engine";
import { type GrantRow, grantRows, previewScopes } from "./grants";
import type { SecretRow } from "./render";
import { readProject, readStackConfig } from "./stack-file";

// Planning a stack file as the CLI and the docs generator do: two runs of the program under mocks,
// one as `pulumi preview` sees a new stack (Azure-computed values unknown) and one with the mocks'
// realistic values, which only name things (which identity, which role, which resource).

const root = resolve(__dirname, "../..");

/** A mistake in how the command was called (exit 2, with usage). */
export class UsageError extends Error {}
/** A file that cannot be read (exit 1). */
export class InputError extends Error {}

export const usageText = `usage: npm run plan -- (--stack NAME | --config-file PATH) [--json | --policy [--policy-config FILE] | --diagram | --identity-map [--out FILE.svg|.dot] | --diff OLD.json]
       npm run plan -- --plan-file PLAN.json (--policy [--policy-config FILE] | --diff OLD.json)

  --stack NAME          plan Pulumi.NAME.yaml
  --config-file PATH    plan any stack file; the stack is named after the file
  --json                one JSON document (the contract is in README.md, "The offline plan")
  --policy              the policy pack's rules over the plan; exit 1 on a violation
  --diagram             the topology as Mermaid
  --identity-map        who reaches what: workload -> identity -> role -> resource, as SVG (or DOT with --out x.dot)
  --diff OLD.json       what changed against a saved --json plan (e.g. the base branch's)
  --plan-file PLAN.json use a saved --json plan instead of running the program
`;

export function usage(message: string): never {
  throw new UsageError(message);
}

/** Stack files a user can name: Pulumi.<name>.yaml (by --stack) and stacks/*.yaml (by --config-file). */
export function availableStacks(dir: string = root): { stacks: string[]; files: string[] } {
  const stacks = readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
  const stacksDir = resolve(dir, "stacks");
  const files = existsSync(stacksDir)
    ? readdirSync(stacksDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()
        .map((f) => `stacks/${f}`)
    : [];
  return { stacks, files };
}

export function usageMessage(message: string): string {
  const { stacks, files } = availableStacks();
  return `plan: ${message}\n${usageText}\navailable stacks: ${stacks.map((s) => `--stack ${s}`).join(", ") || "none"}${files.length ? `\n                  ${files.map((f) => `--config-file ${f}`).join("\n                  ")}` : ""}\n`;
}

/** Stack name from Pulumi.<name>.yaml, else the file's base name. */
export function stackNameOf(file: string): string {
  const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file));
  return m ? m[1] : basename(file).replace(/\.ya?ml$/, "");
}

export function readPlanFile(path: string): PlanDocument & Pick<Plan, "resources"> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(resolve(path), "utf8"));
  } catch (err) {
    throw new InputError(`cannot read plan ${path}: ${(err as Error).message}`);
  }
  const d = doc as { stack?: unknown; resources?: unknown };
  if (typeof d !== "object" || d === null || typeof d.stack !== "string" || !Array.isArray(d.resources)) {
    throw new InputError(`${path} is not a plan from \`npm run plan -- --json\` (needs "stack" and "resources")`);
  }
  return doc as PlanDocument & Pick<Plan, "resources">;
}

/** The --json document: the contract README.md documents. */
export function planDocument(plan: Plan, grants: readonly GrantRow[]) {
  const { project, stack, resources, outputs } = plan;
  return {
    project,
    stack,
    unknown: UNKNOWN,
    resourceCount: resources.length,
    resources,
    grants: grants.map(({ urn, resource, holder, workload, workloadName, principalType, role, target, scope, description, via }) => ({
      urn,
      resource,
      holder,
      workload,
      workloadName,
      principalType,
      role,
      target,
      scope,
      description,
      via,
    })),
    outputs,
  };
}

export interface Planned {
  /** As `pulumi preview` sees a new stack: Azure-computed values unknown. */
  readonly preview: Plan;
  /** Grants named from the mocks' realistic values, scopes as preview knows them. */
  readonly grants: GrantRow[];
  readonly production: boolean;
  readonly secretRows: SecretRow[];
}

export async function planStack(stackArg: string | undefined, configFile: string | undefined, runs: "both" | "realistic" = "both"): Promise<Planned & { realistic?: Plan }> {
  if (stackArg !== undefined && !/^[A-Za-z0-9._-]+$/.test(stackArg)) usage(`--stack ${JSON.stringify(stackArg)} is not a stack name`);
  const file = resolve(configFile ?? resolve(root, `Pulumi.${stackArg}.yaml`));
  if (!existsSync(file)) usage(configFile ? `no stack file ${configFile}` : `no stack ${stackArg} (no ${relative(process.cwd(), file) || file})`);
  const stack = stackArg ?? stackNameOf(file);
  const project = readProject(resolve(root, "Pulumi.yaml"));
  let config;
  try {
    config = readStackConfig(file, project.defaults);
  } catch (err) {
    throw new InputError(`cannot read ${file}: ${(err as Error).message}`);
  }
  // The program reads `secure:` leaves and YAML types from the file it is planned with; only for
  // this run (a test process plans other configs after it).
  const run = async (previewUnknowns: boolean) => {
    const saved = process.env.KEYLESS_STACK_FILE;
    process.env.KEYLESS_STACK_FILE = file;
    try {
      return await runProgram({ project: project.name, stack, values: config.values, secretKeys: config.secretKeys, previewUnknowns, load: () => import(resolve(root, "index.ts")) });
    } finally {
      if (saved === undefined) delete process.env.KEYLESS_STACK_FILE;
      else process.env.KEYLESS_STACK_FILE = saved;
    }
  };
  // Name the grants from the realistic run, then let it go before the second run (memory at fleet scale).
  let realistic: Plan | undefined = await run(false);
  const named = grantRows(realistic);
  const kept = runs === "realistic" ? realistic : undefined;
  if (runs === "both") realistic = undefined;
  const preview = runs === "both" ? await run(true) : (kept as Plan);
  // Config validation already refused a stack that lacks a secret its parts need, so the secrets
  // this stack needs are exactly the secret-only keys its file sets.
  const { secretOnlyKeys } = await import("../../lib/config");
  const { readStackFileFacts } = await import("../../lib/config/stack-file-facts");
  // A key whose `secure:` leaves include the repository's example ciphertexts is not set yet.
  const examples = [...(readStackFileFacts(file)?.exampleSecrets ?? [])];
  const secretRows: SecretRow[] = config.secretKeys
    .filter((key) => secretOnlyKeys.has(key.replace(/^keyless:/, "")) || !key.startsWith("keyless:"))
    .map((key) => ({
      key,
      status: examples.some((p) => isAtOrBelow(p, key))
        ? "example ciphertext in the stack file: set yours with pulumi config set --secret"
        : "set (encrypted in the stack file)",
    }));
  return {
    preview,
    realistic: kept,
    grants: previewScopes(named, preview),
    production: config.values["keyless:production"] === "true",
    secretRows,
  };
}

