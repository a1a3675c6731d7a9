import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import { secretOnlyKeys } from "../../lib/config";
import { type Plan, ProgramError, runProgram } from "./engine";
import { renderText, type SecretRow } from "./render";
import { readProject, readStackConfig } from "./stack-file";

// npm run plan -- --stack NAME [--config-file PATH] [--json]
// The offline plan: the real program under Pulumi's mock engine, no cloud and no Pulumi CLI.

const root = resolve(__dirname, "../..");

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run plan -- --stack NAME [--config-file PATH] [--json]\n`);
  process.exit(2);
}

/** Stack name from Pulumi.<name>.yaml, else the file's base name. */
export function stackNameOf(file: string): string {
  const m = /^Pulumi\.(.+)\.ya?ml$/.exec(basename(file));
  return m ? m[1] : basename(file).replace(/\.ya?ml$/, "");
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({
    options: { stack: { type: "string" }, "config-file": { type: "string" }, json: { type: "boolean", default: false } },
    allowPositionals: false,
  });
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

  if (args.json) {
    const { project: p, stack: s, resources, outputs } = plan;
    process.stdout.write(`${JSON.stringify({ project: p, stack: s, resources, outputs }, null, 2)}\n`);
    for (const w of plan.warnings) process.stderr.write(`warning: ${w}\n`);
    return;
  }
  const secretRows: SecretRow[] = [...new Set([...config.secretKeys, ...[...secretOnlyKeys].map((k) => `keyless:${k}`)])]
    .sort()
    .map((key) => ({ key, status: config.secretKeys.includes(key) ? "set (encrypted in the stack file)" : "MISSING" }));
  process.stdout.write(renderText(plan, secretRows));
}

main().catch((err) => {
  process.stderr.write(`plan: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
