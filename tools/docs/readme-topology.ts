import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { renderDiagram } from "../plan/diagram";
import { identityMapDot, renderSvg } from "../plan/identity-map";
import { planStack } from "../plan/plan-stack";
import { roleMatrix } from "../plan/render";

// npm run docs:plan: regenerate, from the dev stack's offline plan, everything the docs show of it:
// the README's topology diagram (Mermaid), the identity map (docs/identity-map.svg, rendered
// in-process by Graphviz as WebAssembly) and the identity x resource matrix in docs/identity-map.md.
// `--check` changes nothing and exits 1 naming each stale file (test/plan-docs.test.ts runs it).

const root = resolve(__dirname, "../..");
export const regenerate = "npm run docs:plan";

function replaceBlock(text: string, name: string, body: string, file: string): string {
  const block = new RegExp(`<!-- ${name}:start -->\\n[\\s\\S]*?<!-- ${name}:end -->`);
  if (!block.test(text)) throw new Error(`${file} has no <!-- ${name}:start --> ... <!-- ${name}:end --> block`);
  return text.replace(block, () => `<!-- ${name}:start -->\n${body}<!-- ${name}:end -->`);
}

function markdownTable(rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, "\\|");
  const [head, ...body] = rows;
  return [`| ${head.map(esc).join(" | ")} |`, `|${head.map(() => " --- ").join("|")}|`, ...body.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n") + "\n";
}

/** Every generated file and the content it must have. */
export async function generated(): Promise<Map<string, string>> {
  const p = await planStack("dev", undefined);
  const files = new Map<string, string>();
  const readme = resolve(root, "README.md");
  const diagram = renderDiagram(p.preview, p.grants);
  files.set(readme, replaceBlock(readFileSync(readme, "utf8"), "topology", `\`\`\`mermaid\n${diagram.endsWith("\n") ? diagram : `${diagram}\n`}\`\`\`\n`, "README.md"));
  files.set(resolve(root, "docs/identity-map.svg"), await renderSvg(identityMapDot(p.grants, "dev")));
  const doc = resolve(root, "docs/identity-map.md");
  const grants = markdownTable([["Workload", "Identity", "Role", "Reaches", "Via"], ...p.grants.map((g) => [`${g.workloadName} (${g.workload})`, g.holder, g.role, g.target, g.via])]);
  const body = `${markdownTable(roleMatrix(p.grants))}\nEvery grant, one row each:\n\n${grants}`;
  files.set(doc, replaceBlock(readFileSync(doc, "utf8"), "identity-matrix", body, "docs/identity-map.md"));
  return files;
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const stale: string[] = [];
  for (const [file, content] of await generated()) {
    let current = "";
    try {
      current = readFileSync(file, "utf8");
    } catch {
      // missing: stale
    }
    if (current === content) continue;
    stale.push(file.slice(root.length + 1));
    if (!check) writeFileSync(file, content);
  }
  if (check && stale.length > 0) {
    process.stderr.write(`stale (the dev stack's plan changed): ${stale.join(", ")}\nregenerate with: ${regenerate}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(stale.length === 0 ? "docs from the dev plan are current\n" : `updated ${stale.join(", ")}\n`);
}

if (typeof require !== "undefined" && require.main === module) {
  main().catch((err) => {
    process.stderr.write(`docs: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
