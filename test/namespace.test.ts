import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { inside, namespaceUnavailable } from "./support/namespace";

// test/support/namespace.ts: what the tests that need root run in when the user is not root.

const why = namespaceUnavailable();

describe("the private user and mount namespace", () => {
  it.runIf(why === undefined)(`makes the caller root inside, over an empty /var/opt that the machine never sees${why ? ` (skipped: ${why})` : ""}`, () => {
    const probe = "/var/opt/keyless-namespace-probe";
    const r = spawnSync("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", inside, "sh", "sh", "-c", `id -u; ls -A /var/opt; touch ${probe} && echo written`], { encoding: "utf8" });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: "0\nwritten\n", stderr: "" });
    expect(existsSync(probe)).toBe(false);
  });
});
