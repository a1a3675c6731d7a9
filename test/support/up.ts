import { resolve } from "node:path";
import { ProgramError, runProgram } from "../../tools/plan/engine";
import { readProject, readStackConfig } from "../../tools/plan/stack-file";

// node --require ./tools/runtime/register.cjs test/support/up.ts STACK_FILE STACK
// Runs the program once under the mocks as `pulumi up` does (not a preview), in a process of its own:
// a program that stops itself (pulumi.RunError) leaves rejected SDK promises behind, which a real
// `pulumi up` reports and exits on, and which would fail a test runner. Prints the program's message
// and exits 1, or prints "registered N resources" and exits 0.

const project = readProject(resolve(__dirname, "../../Pulumi.yaml"));

async function main(): Promise<void> {
  const [file, stack] = process.argv.slice(2);
  const config = readStackConfig(resolve(file), project.defaults);
  // As the offline plan does: the program reads secure leaves and YAML types from this file.
  process.env.KEYLESS_STACK_FILE = resolve(file);
  try {
    const plan = await runProgram({ project: project.name, stack, values: config.values, secretKeys: config.secretKeys, preview: false, load: () => import("../../index") });
    process.stdout.write(`registered ${plan.resources.length} resources\n`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`${err instanceof ProgramError ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

process.on("unhandledRejection", (err) => {
  // The program's own RunError is reported through runProgram's rejection above; anything else is a bug.
  if ((err as { name?: string })?.name === "RunError" || (err as { __pulumiRunError?: boolean })?.__pulumiRunError) return;
  process.stderr.write(`unhandled rejection: ${String(err)}\n`);
  process.exit(2);
});
main();
