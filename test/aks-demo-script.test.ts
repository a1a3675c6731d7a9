import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./support/harness";

// Runs scripts/aks/list-node-vms.sh for real, with a stub `az` that records its calls.
const script = join(root, "scripts/aks/list-node-vms.sh");

function run(azBehaviour: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "aks-demo-"));
  const log = join(dir, "calls");
  // The stub counts its calls so a behaviour can fail the first N times (propagation).
  writeFileSync(join(dir, "az"), `#!/usr/bin/env bash\necho "$*" >> ${log}\nn=$(wc -l < ${log})\n${azBehaviour}\n`);
  chmodSync(join(dir, "az"), 0o755);
  writeFileSync(join(dir, "token"), "federated-jwt");
  const r = spawnSync("bash", [script], {
    encoding: "utf8",
    env: {
      PATH: `${dir}:/usr/bin:/bin`,
      HOME: dir,
      AZURE_CLIENT_ID: "c1",
      AZURE_TENANT_ID: "t1",
      AZURE_FEDERATED_TOKEN_FILE: join(dir, "token"),
      SUBSCRIPTION_ID: "s1",
      NODE_RESOURCE_GROUP: "rg-nodes",
      RETRY_SECONDS: "2",
      POLL_SECONDS: "0",
      ...env,
    },
  });
  let calls = "";
  try {
    calls = readFileSync(log, "utf8");
  } catch {}
  return { ...r, calls, dir };
}

describe("list-node-vms.sh", () => {
  it("logs in with the federated token read by az from the file (never on the command line) and lists the node group", () => {
    const r = run('case "$1 $2" in "vm list") echo 0;; "vmss list") echo aks-system-vmss;; esac');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("demo: OK identity c1 sees 0 VM(s) and scale set(s) [aks-system-vmss] in rg-nodes (no secret used)");
    expect(r.calls.split("\n")[0]).toBe(`login --service-principal --username c1 --tenant t1 --federated-token @${join(r.dir, "token")} --output none`);
    expect(r.calls).not.toContain("federated-jwt");
  });

  it("retries while the federated credential and the role assignment propagate", () => {
    // Login refused twice, then vm list refused twice, then everything works.
    const r = run(
      'if [ "$1" = login ] && [ "$n" -le 2 ]; then echo "AADSTS70021: No matching federated identity record" >&2; exit 1; fi\n' +
        'if [ "$1 $2" = "vm list" ] && [ "$n" -le 5 ]; then echo "AuthorizationFailed" >&2; exit 1; fi\n' +
        'case "$1 $2" in "vm list") echo 2;; "vmss list") echo aks-system-vmss;; esac',
      { RETRY_SECONDS: "30" },
    );
    expect(r.status).toBe(0);
    expect(r.calls.split("\n").filter(Boolean).map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["login --service-principal", "login --service-principal", "login --service-principal", "vm list", "vm list", "vm list", "vmss list"]);
    expect(r.stdout).toContain("sees 2 VM(s)");
  });

  it("keeps logging in until the identity sees its subscription (az only accepts --subscription values it saw at login)", () => {
    // A stub with az's profile behaviour: before the role assignment is visible, a login with
    // --allow-no-subscriptions succeeds tenant-only and `--subscription s1` is then "not found" forever.
    const r = run(
      'profile="$(dirname "$0")/profile"\n' +
        'if [ "$1" = login ]; then\n' +
        '  if [ "$n" -le 2 ]; then\n' +
        '    case "$*" in *--allow-no-subscriptions*) echo tenant > "$profile"; exit 0;; esac\n' +
        '    echo "No subscriptions found for c1." >&2; exit 1\n' +
        '  fi\n' +
        '  echo s1 > "$profile"; exit 0\n' +
        'fi\n' +
        'if ! grep -qx s1 "$profile" 2>/dev/null; then echo "Subscription \'s1\' not found. Check the spelling and casing and try again." >&2; exit 1; fi\n' +
        'case "$1 $2" in "vm list") echo 1;; "vmss list") echo aks-system-vmss;; esac',
      { RETRY_SECONDS: "30" },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.calls.split("\n").filter(Boolean).map((l) => l.split(" ").slice(0, 2).join(" "))).toEqual(["login --service-principal", "login --service-principal", "login --service-principal", "vm list", "vmss list"]);
  });

  it.each([
    ["login refused", 'if [ "$1" = login ]; then echo "AADSTS70021: No matching federated identity record" >&2; exit 1; fi', 4, "demo: FAILED at login: az login with the federated token was refused for 2s: AADSTS70021"],
    ["no role", 'if [ "$1" = vm ]; then echo "AuthorizationFailed" >&2; exit 1; fi', 5, "demo: FAILED at list-vms: cannot read rg-nodes after 2s: AuthorizationFailed"],
  ])("%s for the whole retry window: exits non-zero with the reason", (_, behaviour, code, message) => {
    const r = run(behaviour);
    expect(r.status).toBe(code);
    expect(r.stderr).toContain(message);
  });

  it("says what is missing when the webhook did not inject the token, or HOME is not writable", () => {
    const r = run("", { AZURE_FEDERATED_TOKEN_FILE: "/nonexistent/token" });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("demo: FAILED at token: no federated token at /nonexistent/token");
    const r2 = run("", { AZURE_CLIENT_ID: "" });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain("demo: FAILED at environment: AZURE_CLIENT_ID is not set");
    const r3 = run("", { HOME: "/proc/nonexistent" });
    expect(r3.status).toBe(2);
    expect(r3.stderr).toContain("demo: FAILED at home: /proc/nonexistent is not writable");
    expect(r3.calls).toBe("");
  });
});
