import { existsSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { renderDiagram } from "./diagram";
import { diffPlans, renderDiff } from "./diff";
import { type Plan, ProgramError } from "./engine";
import { identityMapDot, renderSvg } from "./identity-map";
import { planDocument, planStack, readPlanFile, UsageError, InputError, usage, usageMessage } from "./plan-stack";
import { type CheckedResource, checkResources, readPolicyConfig, renderViolations, savedPlanResources } from "./policy";
import { renderText } from "./render";

// The offline plan: the real program under Pulumi's mock engine, no cloud and no Pulumi CLI.
// Exit codes: 0 done, 1 invalid config / policy violations / unreadable plan file, 2 usage error.
// Every failure is a message on stderr, never a stack trace.

const root = resolve(__dirname, "../..");

// `npm run plan -- --json | head`: the reader went away; that is the end of the output, not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});


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
    // A saved plan is the preview run: ids Azure assigns are unknown; the grant rows name the roles.
    return policyCheck({ stack: saved.stack, resources: savedPlanResources(saved) }, false, args["policy-config"]);
  }
  if (!args.stack && !args["config-file"]) usage("--stack or --config-file is required");
  if (args.stack && args["config-file"] && !existsSync(resolve(args["config-file"]))) usage(`no stack file ${args["config-file"]}`);

  if (args.policy) {
    // The policy pack's rules read the program's values (as CrossGuard does after `pulumi up`).
    const p = await planStack(args.stack, args["config-file"], "realistic");
    return policyCheck(p.realistic as Plan, p.production, args["policy-config"]);
  }
  const p = await planStack(args.stack, args["config-file"]);
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
function policyCheck(plan: { readonly stack: string; readonly resources: readonly CheckedResource[] }, production: boolean, configFile: string | undefined): number {
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
