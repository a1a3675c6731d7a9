import { describe, expect, it } from "vitest";
import { SharedByInputs } from "../lib/shared-outputs";

describe("SharedByInputs", () => {
  it("makes one value per combination of inputs, objects compared by identity", () => {
    const memo = new SharedByInputs<{ n: number }>();
    let made = 0;
    const make = () => ({ n: ++made });
    const a = {};
    const b = {};
    const first = memo.get([a, "x"], make);
    expect(memo.get([a, "x"], make)).toBe(first);
    expect(memo.get([a, "y"], make)).not.toBe(first);
    expect(memo.get([b, "x"], make)).not.toBe(first);
    expect(memo.get([{}, "x"], make)).not.toBe(first);
    expect(made).toBe(4);
  });

  it("never memoizes keys of primitives only (no Output may outlive its run)", () => {
    const memo = new SharedByInputs<{ n: number }>();
    let made = 0;
    const make = () => ({ n: ++made });
    expect(memo.get(["x", true], make)).not.toBe(memo.get(["x", true], make));
    expect(made).toBe(2);
  });

  it("keeps a value made as undefined", () => {
    const memo = new SharedByInputs<undefined>();
    let made = 0;
    const key = {};
    memo.get([key], () => void made++);
    memo.get([key], () => void made++);
    expect(made).toBe(1);
  });
});
