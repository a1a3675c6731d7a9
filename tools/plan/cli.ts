import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { secretOnlyKeys } from "../../lib/config";
import { renderDiagram } from "./diagram";
import { type Plan, ProgramError, runProgram } from "./engine";
import { checkResources, readPolicyConfig, renderViolations } from "./policy";
import { renderText, type SecretRow } from "./render";
import { readProject, readStackConfig } from "./stack-file";

// npm run plan -- --stack NAME [--config-file PATH] [--json | --policy [--policy-config FILE] | --diagram]
// npm run plan -- --plan-file PLAN.json --policy [--policy-config FILE]
// The offline plan: the real program under Pulumi's mock engine, no cloud and no Pulumi CLI.
// --policy runs the policy pack's rules (policy/rules.ts) over the plan: one line per violation
// (rule, resource URN, message), exit 1 on any. --diagram prints the topology as Mermaid.

const root = resolve(__dirname, "../..");

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run plan -- --stack NAME [--config-file PATH] [--json | --policy [--policy-config FILE] | --diagram]\n       npm run plan -- --plan-file PLAN.json --policy [--policy-config FILE]\n`);
  process.exit(2);
}

/** Stack name from Pulumi.<name>.yaml, else the file's base name. */
export function stackNameOf(file: string): string {
  const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file));
  return m ? m[1] : basename(file).replace(/\.ya?ml$/, "");
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: {
      stack: { type: "string" },
      "config-file": { type: "string" },
      json: { type: "boolean", default: false },
      policy: { type: "boolean", default: false },
      "policy-config": { type: "string" },
      "plan-file": { type: "string" },
      diagram: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  if ([args.json, args.policy, args.diagram].filter(Boolean).length > 1) usage("plan: --json, --policy and --diagram are exclusive");
  if (args["plan-file"]) {
    if (!args.policy) usage("plan: --plan-file goes with --policy");
    const saved = JSON.parse(readFileSync(resolve(args["plan-file"]), "utf8")) as Pick<Plan, "stack" | "resources">;
    policyCheck(saved, false, args["policy-config"]);
  }
  if (!args.stack && !args["config-file"]) usage("plan: --stack or --config-file is required");
  const file = resolve(args["config-file"] ?? resolve(root, `Pulumi.${args.stack}.yaml`));
  const stack = args.stack ?? stackNameOf(file);
  const project = readProject(resolve(root, "Pulumi.yaml"));
  let config;
  try {
    config = readStackConfig(file, project.defaults);
  } catch (err) {
    process.stderr.write(`plan: cannot read ${file}: ${(err as Error).message}\n`);
    process.exit(1);
  }

  // The program reads `secure:` leaves and YAML types from the file it is planned with.
  process.env.KEYLESS_STACK_FILE = file;
  let plan: Plan;
  try {
    plan = await runProgram({
      project: project.name,
      stack,
      values: config.values,
      secretKeys: config.secretKeys,
      load: () => import(resolve(root, "index.ts")),
    });
  } catch (err) {
    if (err instanceof ProgramError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }

  if (args.policy) policyCheck(plan, config.values["keyless:production"] === "true", args["policy-config"]);
  if (args.diagram) {
    process.stdout.write(renderDiagram(plan));
    return;
  }
  if (args.json) {
    const { project: p, stack: s, resources, outputs } = plan;
    process.stdout.write(`${JSON.stringify({ project: p, stack: s, resources, outputs }, null, 2)}\n`);
    for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
    return;
  }
  // Config validation already refused a stack that lacks a secret its parts need, so the secrets
  // this stack needs are exactly the secret-only keys its file sets.
  const secretRows: SecretRow[] = config.secretKeys
    .filter((key) => secretOnlyKeys.has(key.replace(/^keyless:/, "")) || !key.startsWith("keyless:"))
    .map((key) => ({ key, status: "set (encrypted in the stack file)" }));
  process.stdout.write(renderText(plan, secretRows));
}

/** Check a plan against the policy pack's rules; exits 0 (clean) or 1 (violations). */
function policyCheck(plan: Pick<Plan, "stack" | "resources">, production: boolean, configFile: string | undefined): never {
  // Same config file the real preview gets (--policy-pack-config policy/config/<stack>.json).
  const config = readPolicyConfig(configFile ?? resolve(root, "policy/config", `${plan.stack}.json`), configFile !== undefined);
  const violations = checkResources(plan.resources, { production, config });
  process.stdout.write(renderViolations(violations));
  const checked = plan.resources.length;
  process.stderr.write(`policy: ${violations.length} mandatory violation(s) in ${checked} resources of stack ${plan.stack}\n`);
  process.exit(violations.length > 0 ? 1 : 0);
}

main().catch((err) => {
  process.stderr.write(`plan: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
