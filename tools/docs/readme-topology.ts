import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

// npm run docs:topology: regenerate the README's topology diagram from the dev stack's offline plan
// (test/plan-policy.test.ts fails when the README's block and the plan disagree).

const root = resolve(__dirname, "../..");
const diagram = execFileSync(process.execPath, ["--require", resolve(root, "tools/runtime/register.cjs"), resolve(root, "tools/plan/cli.ts"), "--stack", "dev", "--diagram"], {
  cwd: root,
  encoding: "utf8",
});
const readme = resolve(root, "README.md");
const text = readFileSync(readme, "utf8");
const block = /<!-- topology:start -->\n[\s\S]*?<!-- topology:end -->/;
if (!block.test(text)) throw new Error("README.md has no <!-- topology:start --> ... <!-- topology:end --> block");
const next = text.replace(block, () => `<!-- topology:start -->\n\`\`\`mermaid\n${diagram.endsWith("\n") ? diagram : `${diagram}\n`}\`\`\`\n<!-- topology:end -->`);
// Say what happened: a run that changes nothing leaves the file (and its timestamp) alone.
if (next === text) {
  process.stdout.write("the topology block in README.md is already current\n");
} else {
  writeFileSync(readme, next);
  process.stdout.write("updated the topology block in README.md\n");
}
