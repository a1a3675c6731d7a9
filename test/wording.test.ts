import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./support/harness";

// The hand-made flows this program automates are named in plain words (README, "Where this comes
// from"), never by the numbers of the notes they came from.

const skip = new Set(["node_modules", ".git", ".cache", "bin", "coverage", ".plan"]);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    if (skip.has(f)) return [];
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|mts|cjs|js|md|ya?ml|sh|ps1|json)$/.test(f) && f !== "package-lock.json" ? [p] : [];
  });
}

describe("wording", () => {
  it("no file refers to the hand-made flows as seeds", () => {
    const pattern = /\bseeds? ?\d{3}\b|\bthe seed\b|\bseed's\b/i;
    const offenders = files(root)
      .filter((f) => pattern.test(readFileSync(f, "utf8")))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});
