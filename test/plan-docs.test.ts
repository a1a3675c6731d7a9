import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { generated, regenerate } from "../tools/docs/readme-topology";
import { mockSubscriptionId } from "../tools/plan/mocks";
import { root } from "./support/harness";

// What the docs show of the dev stack (README topology, docs/identity-map.svg, the matrix in
// docs/identity-map.md) is generated from its plan; a change to the program or the stack file that
// is not regenerated fails here, naming the command.

describe("docs generated from the dev plan", async () => {
  const files = await generated();

  it.each([...files.keys()].map((f) => [relative(root, f)]))("%s is current", (file) => {
    const want = files.get(`${root}/${file}`) as string;
    const have = readFileSync(`${root}/${file}`, "utf8");
    expect(have === want, `${file} is stale: run \`${regenerate}\` and commit the result`).toBe(true);
  });

  it("the identity map is an SVG with names, one legend, and no GUID Azure assigns or mock subscription", () => {
    // Graphviz writes "-" as &#45; in text.
    const svg = (files.get(`${root}/docs/identity-map.svg`) as string).replace(/&#45;/g, "-");
    expect(svg).toMatch(/^<\?xml[\s\S]*<svg[\s\S]*<\/svg>\n?$/);
    expect(svg.match(/>Legend</g)).toHaveLength(1);
    for (const name of ["id-keyless-dev-vm", "vm-keyless-dev", "kubelet identity", "pods as demo/keyless-demo", "AcrPull", "Image consumers"]) expect(svg).toContain(name);
    expect(svg).not.toContain(mockSubscriptionId);
    expect(svg).not.toContain("04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    expect(svg).not.toContain("(known after apply)");
    expect(svg).not.toContain("/subscriptions/");
  });

  it("is deterministic", async () => {
    const again = await generated();
    for (const [file, content] of files) expect(again.get(file)).toBe(content);
  });
});
