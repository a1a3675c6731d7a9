import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./support/harness";

// Runs scripts/aks/list-node-vms.sh for real, with a stub `az` that records its calls.
const script = join(root, "scripts/aks/list-node-vms.sh");

function run(azBehaviour: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "aks-demo-"));
  const log = join(dir, "calls");
  writeFileSync(join(dir, "az"), `#!/usr/bin/env bash\necho "$*" >> ${log}\n${azBehaviour}\n`);
  chmodSync(join(dir, "az"), 0o755);
  writeFileSync(join(dir, "token"), "federated-jwt");
  const r = spawnSync("bash", [script], {
    encoding: "utf8",
    env: {
      PATH: `${dir}:/usr/bin:/bin`,
      AZURE_CLIENT_ID: "c1",
      AZURE_TENANT_ID: "t1",
      AZURE_FEDERATED_TOKEN_FILE: join(dir, "token"),
      SUBSCRIPTION_ID: "s1",
      NODE_RESOURCE_GROUP: "rg-nodes",
      ...env,
    },
  });
  let calls = "";
  try {
    calls = require("node:fs").readFileSync(log, "utf8");
  } catch {}
  return { ...r, calls };
}

describe("list-node-vms.sh", () => {
  it("is shellcheck-clean", () => {
    expect(spawnSync("shellcheck", [script], { encoding: "utf8" }).stdout).toBe("");
  });

  it("logs in with the federated token and lists the node group", () => {
    const r = run('case "$1 $2" in "vm list") echo 0;; "vmss list") echo aks-system-vmss;; esac');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("demo: OK identity c1 sees 0 VM(s) and scale set(s) [aks-system-vmss] in rg-nodes (no secret used)");
    // The token file, not the token: nothing on a command line holds it.
    expect(r.calls.split("\n")[0]).toMatch(/^login --service-principal --username c1 --tenant t1 --federated-token @\S+\/token --allow-no-subscriptions --output none$/);
    expect(r.calls).not.toContain("federated-jwt");
  });

  it.each([
    ["login refused", 'if [ "$1" = login ]; then echo "AADSTS70021: No matching federated identity record" >&2; exit 1; fi', 4, "demo: FAILED at login: az login with the federated token was refused: AADSTS70021"],
    ["no role yet", 'if [ "$1" = vm ]; then echo "AuthorizationFailed" >&2; exit 1; fi', 5, "demo: FAILED at list-vms: cannot read rg-nodes: AuthorizationFailed"],
  ])("%s", (_, behaviour, code, message) => {
    const r = run(behaviour);
    expect(r.status).toBe(code);
    expect(r.stderr).toContain(message);
  });

  it("says what is missing when the webhook did not inject the token", () => {
    const r = run("", { AZURE_FEDERATED_TOKEN_FILE: "/nonexistent/token" });
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("demo: FAILED at token: no federated token at /nonexistent/token");
    const r2 = run("", { AZURE_CLIENT_ID: "" });
    expect(r2.status).toBe(2);
    expect(r2.stderr).toContain("demo: FAILED at environment: AZURE_CLIENT_ID is not set");
  });
});
