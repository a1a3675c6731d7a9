import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderDiagram } from "./diagram";
import { diffPlans, type PlanDocument, renderDiff } from "./diff";
import { type Plan, ProgramError, runProgram, UNKNOWN } from "./engine";
import { type GrantRow, planGrants } from "./grants";
import { identityMapDot, renderSvg } from "./identity-map";
import { checkResources, readPolicyConfig, renderViolations } from "./policy";
import { renderText, type SecretRow } from "./render";
import { readProject, readStackConfig } from "./stack-file";

// The offline plan: the real program under Pulumi's mock engine, no cloud and no Pulumi CLI.
// Exit codes: 0 done, 1 invalid config / policy violations / unreadable plan file, 2 usage error.
// Every failure is a message on stderr, never a stack trace.

const root = resolve(__dirname, "../..");

const usageText = `usage: npm run plan -- (--stack NAME | --config-file PATH) [--json | --policy [--policy-config FILE] | --diagram | --identity-map [--out FILE.svg|.dot] | --diff OLD.json]
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

class UsageError extends Error {}
class InputError extends Error {}

function usage(message: string): never {
  throw new UsageError(message);
}

function usageMessage(message: string): string {
  const { stacks, files } = availableStacks();
  return `plan: ${message}\n${usageText}\navailable stacks: ${stacks.map((s) => `--stack ${s}`).join(", ") || "none"}${files.length ? `\n                  ${files.map((f) => `--config-file ${f}`).join("\n                  ")}` : ""}\n`;
}

/** Stack name from Pulumi.<name>.yaml, else the file's base name. */
export function stackNameOf(file: string): string {
  const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file));
  return m ? m[1] : basename(file).replace(/\.ya?ml$/, "");
}

function readPlanFile(path: string): PlanDocument & Pick<Plan, "resources"> {
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

interface Planned {
  /** As `pulumi preview` sees a new stack: Azure-computed values unknown. */
  readonly preview: Plan;
  /** Grants named from the mocks' realistic values, scopes as preview knows them. */
  readonly grants: GrantRow[];
  readonly production: boolean;
  readonly secretRows: SecretRow[];
}

async function planStack(stackArg: string | undefined, configFile: string | undefined, needRealistic: boolean): Promise<Planned & { realistic?: Plan }> {
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
  const run = (previewUnknowns: boolean) =>
    runProgram({ project: project.name, stack, values: config.values, secretKeys: config.secretKeys, previewUnknowns, load: () => import(resolve(root, "index.ts")) });
  const preview = await run(true);
  const realistic = needRealistic ? await run(false) : undefined;
  // Config validation already refused a stack that lacks a secret its parts need, so the secrets
  // this stack needs are exactly the secret-only keys its file sets.
  const { secretOnlyKeys } = await import("../../lib/config");
  const secretRows: SecretRow[] = config.secretKeys
    .filter((key) => secretOnlyKeys.has(key.replace(/^keyless:/, "")) || !key.startsWith("keyless:"))
    .map((key) => ({ key, status: "set (encrypted in the stack file)" }));
  return {
    preview,
    realistic,
    grants: planGrants(realistic ?? preview, preview),
    production: config.values["keyless:production"] === "true",
    secretRows,
  };
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    ({ values: args } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        "config-file": { type: "string" },
        json: { type: "boolean", default: false },
        policy: { type: "boolean", default: false },
        "policy-config": { type: "string" },
        "plan-file": { type: "string" },
        diagram: { type: "boolean", default: false },
        "identity-map": { type: "boolean", default: false },
        out: { type: "string" },
        diff: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    const m = /argument '([^']+)'/.exec((err as Error).message);
    usage((err as { code?: string }).code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL" && m ? `unexpected argument ${JSON.stringify(m[1])} (did you mean --stack ${m[1]}?)` : (err as Error).message);
  }
  if (args.help) {
    process.stdout.write(usageMessage("the offline plan").replace(/^plan: the offline plan\n/, ""));
    return 0;
  }
  const modes = (["json", "policy", "diagram", "identity-map"] as const).filter((k) => args[k]);
  if (args.diff) modes.push("diff" as never);
  if (modes.length > 1) usage(`--${modes.join(", --")} are exclusive`);
  if (args.out && !args["identity-map"]) usage("--out goes with --identity-map");

  if (args["plan-file"]) {
    if (args.stack || args["config-file"]) usage("--plan-file replaces --stack and --config-file");
    if (!args.policy && !args.diff) usage("--plan-file goes with --policy or --diff");
    const saved = readPlanFile(args["plan-file"]);
    if (args.diff) {
      process.stdout.write(renderDiff(diffPlans(readPlanFile(args.diff), saved), saved.stack));
      return 0;
    }
    return policyCheck(saved, false, args["policy-config"]);
  }
  if (!args.stack && !args["config-file"]) usage("--stack or --config-file is required");
  if (args.stack && args["config-file"] && !existsSync(resolve(args["config-file"]))) usage(`no stack file ${args["config-file"]}`);

  if (args.policy) {
    // The policy pack's rules read the program's values (as CrossGuard does after `pulumi up`).
    const p = await planStack(args.stack, args["config-file"], true);
    return policyCheck(p.realistic as Plan, p.production, args["policy-config"]);
  }
  const p = await planStack(args.stack, args["config-file"], true);
  for (const w of p.preview.warnings) process.stderr.write(`warning: ${w}\n`);
  if (args.diagram) {
    process.stdout.write(renderDiagram(p.preview, p.grants));
    return 0;
  }
  if (args["identity-map"]) {
    const dot = identityMapDot(p.grants, p.preview.stack);
    const text = args.out?.endsWith(".dot") ? dot : await renderSvg(dot);
    if (args.out) writeFileSync(resolve(args.out), text);
    else process.stdout.write(text);
    return 0;
  }
  const doc = planDocument(p.preview, p.grants);
  if (args.diff) {
    process.stdout.write(renderDiff(diffPlans(readPlanFile(args.diff), doc), doc.stack));
    return 0;
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(renderText(p.preview, p.secretRows, p.grants));
  return 0;
}

/** Check a plan against the policy pack's rules: 0 clean, 1 violations. */
function policyCheck(plan: Pick<Plan, "stack" | "resources">, production: boolean, configFile: string | undefined): number {
  // Same config file the real preview gets (--policy-pack-config policy/config/<stack>.json).
  const config = readPolicyConfig(configFile ?? resolve(root, "policy/config", `${plan.stack}.json`), configFile !== undefined);
  const violations = checkResources(plan.resources, { production, config });
  process.stdout.write(renderViolations(violations));
  process.stderr.write(`policy: ${violations.length} mandatory violation(s) in ${plan.resources.length} resources of stack ${plan.stack}\n`);
  return violations.length > 0 ? 1 : 0;
}

// exitCode, not exit(): a large plan written to a pipe must drain before the process ends.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(usageMessage(err.message));
      process.exit(2);
    }
    if (err instanceof ProgramError || err instanceof InputError) {
      process.stderr.write(`${err.message.startsWith("plan:") || err instanceof ProgramError ? "" : "plan: "}${err.message}\n`);
      process.exit(1);
    }
    // A bug in the program or the plan: the message, and where to look, without a stack trace
    // (KEYLESS_PLAN_DEBUG=1 prints it).
    process.stderr.write(`plan: ${(err as Error)?.message ?? String(err)}\n`);
    if (process.env.KEYLESS_PLAN_DEBUG === "1") process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
    else process.stderr.write("plan: run with KEYLESS_PLAN_DEBUG=1 for the stack trace\n");
    process.exit(1);
  },
);
