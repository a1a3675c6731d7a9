import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./support/harness";

// The offline plan's command-line contract, exercised as users and CI run it.

function plan(...args: string[]) {
  const r = spawnSync(process.execPath, ["--require", join(root, "tools/runtime/register.cjs"), join(root, "tools/plan/cli.ts"), ...args], { cwd: root, encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tempStack(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "keyless-plan-")), "Pulumi.tmp.yaml");
  writeFileSync(file, yaml);
  return file;
}

describe("npm run plan -- --json", () => {
  const first = plan("--stack", "dev", "--json");

  it("prints the contract's document and exits 0", () => {
    expect(first.status).toBe(0);
    const doc = JSON.parse(first.stdout);
    expect(Object.keys(doc)).toEqual(["project", "stack", "unknown", "resourceCount", "resources", "grants", "outputs"]);
    expect(doc).toMatchObject({ project: "keyless", stack: "dev", unknown: "(known after apply)", resourceCount: doc.resources.length });
    for (const r of doc.resources) {
      expect(Object.keys(r)).toEqual(["urn", "type", "name", "custom", "parent", "provider", "protect", "dependencies", "inputs", "outputs", "propertyDependencies", "deleteBeforeReplace", "replaceOnChanges", "replaceWith"]);
    }
    for (const g of doc.grants) expect(Object.keys(g)).toEqual(["urn", "resource", "holder", "workload", "workloadName", "principalType", "role", "target", "scope", "description", "via"]);
    // Ids Azure assigns are the marker, never a mock value.
    expect(doc.outputs.keyVault.id).toBe(doc.unknown);
    expect(first.stdout).not.toContain("04da6b54-80e4-46f7-96ec-b56ff0331ba9");
    const vault = doc.resources.find((r: { type: string }) => r.type === "azure-native:keyvault:Vault");
    expect(vault.urn).toBe("urn:pulumi:dev::keyless::keyless:keyvault:KeyVault$azure-native:keyvault:Vault::vault-kv");
    expect(vault.parent).toBe("urn:pulumi:dev::keyless::keyless:keyvault:KeyVault::vault");
    // URNs as the engine forms them (pulumi sdk/go/common/resource/urn.go NewURN): the parent's
    // qualified type, except the root stack's, so `pulumi up --replace <urn>` finds the resource.
    const group = doc.resources.find((r: { name: string }) => r.name === "shared-rg");
    expect(group.urn).toBe("urn:pulumi:dev::keyless::azure-native:resources:ResourceGroup::shared-rg");
    expect(group.parent).toBe("urn:pulumi:dev::keyless::pulumi:pulumi:Stack::keyless-dev");
    // A Lighthouse authorization's scope is its delegation assignment's, unknown at preview as that is.
    const lighthouse = doc.grants.filter((g: { via: string }) => g.via === "Lighthouse delegation");
    expect(lighthouse.length).toBeGreaterThan(0);
    for (const g of lighthouse) expect(g.scope).toBe(doc.unknown);
    // A component's outputs are the plain values it registered, unknown where Azure computes them.
    const server = doc.resources.find((r: { type: string; name: string }) => r.type === "keyless:arc:ArcServer" && r.name === "arc-arc-dev-lnx");
    expect(server.outputs).toEqual({ machineId: doc.unknown, principalId: doc.unknown, verification: doc.unknown });
  });

  it("is byte-identical across runs", () => {
    expect(plan("--stack", "dev", "--json").stdout).toBe(first.stdout);
  });

  it("reads another stack file with --config-file and names the stack after it", () => {
    const r = plan("--config-file", join(root, "Pulumi.prod.yaml"), "--json");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).stack).toBe("prod");
  });

  it("never decrypts secure: values, and refuses a secret where keyless would pass it to Azure in clear", () => {
    const file = tempStack(
      ["config:", "  azure-native:location: japaneast", "  keyless:workload: keyless", "  keyless:tags:", "    owner:", "      secure: AAABAKz0c2VjcmV0"].join("\n"),
    );
    const r = plan("--config-file", file, "--stack", "dev", "--json");
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n").slice(1)).toEqual([
      "  keyless:tags: [secret] is stored as a secret, but keyless passes this key to Azure in clear; store it in plain text",
    ]);
    expect(r.stderr).not.toContain("offline-plan-placeholder-secret");
    expect(r.stderr).not.toContain("AAABAKz0c2VjcmV0");
  });
});

describe("npm run plan (text)", () => {
  it("prints the tree, the grants table, secrets, warnings and outputs", () => {
    const r = plan("--stack", "dev");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Offline plan of keyless, stack dev");
    expect(r.stdout).toMatch(/\+ vault-kv {2}azure-native:keyvault:Vault/);
    for (const heading of ["Role grants:", "Warnings:", "Outputs:"]) expect(r.stdout).toContain(heading);
    // The committed dev file holds example ciphertexts: the key is not set yet.
    expect(r.stdout).toContain("Secrets the stack needs:\n  keyless:arcSecrets: example ciphertext in the stack file: set yours with pulumi config set --secret\n");
    // One count of each kind: 15 components and the stack.
    expect(r.stdout).toContain("Resources: 85 resources (65 Azure/Kubernetes/command resources, 4 providers, 15 components and the stack)");
    // Grants name the identity that holds the role, the role by name and what it reaches; the
    // registry's id is assigned by Azure, so the scope is unknown at preview.
    expect(r.stdout).toMatch(/ {2}id-keyless-dev-vm \(user-assigned identity\) +ServicePrincipal +AcrPull +crkeylessdev[a-z0-9]{4} \(container registry\) +\(known after apply\)\n/);
    expect(r.stdout).toContain("Who reaches what (identity x resource):");
    const json = JSON.parse(plan("--stack", "dev", "--json").stdout);
    // One count everywhere: the text, --json and --policy.
    expect(r.stdout).toContain(`Resources: ${json.resourceCount} resources (`);
    expect(plan("--stack", "dev", "--policy").stderr).toContain(`in ${json.resourceCount} resources of stack dev`);
  });
});

describe("secrets section", () => {
  it("lists the secret-only keys the stack file sets, never their values", () => {
    const r = plan("--config-file", join(root, "stacks/arc-fleet.yaml"));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Secrets the stack needs:\n  keyless:arcSecrets: example ciphertext in the stack file: set yours with pulumi config set --secret\n");
    // Set for real (a ciphertext that is no example), the same key reads as set.
    const file = join(mkdtempSync(join(tmpdir(), "keyless-secret-")), "Pulumi.real.yaml");
    writeFileSync(file, readFileSync(join(root, "stacks/arc-fleet.yaml"), "utf8").replace(/v1:PLACEHOLDER[A-Za-z0-9=]*/g, "v1:AAABBBCCC0realciphertext0="));
    expect(plan("--config-file", file).stdout).toContain("Secrets the stack needs:\n  keyless:arcSecrets: set (encrypted in the stack file)\n");
    expect(r.stdout).not.toContain("offline-plan-placeholder-secret");
  });
});

describe("invalid config", () => {
  it("exits 1, lists every bad key on stderr and prints nothing on stdout", () => {
    const file = tempStack(
      ["config:", "  azure-native:location: japaneast", '  keyless:workload: "Key-Less"', "  keyless:registry:", "    sku: Free", "  keyless:nope: 1"].join("\n"),
    );
    const r = plan("--config-file", file, "--stack", "dev");
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('keyless:workload: "Key-Less" must be 2-10 lowercase letters or digits');
    expect(r.stderr).toContain('keyless:registry.sku: "Free" must be one of Basic | Standard | Premium');
    expect(r.stderr).toContain("keyless:nope: 1 is not a known key");
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it("exits 2 with usage when no stack is named", () => {
    const r = plan();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("usage: npm run plan -- (--stack NAME | --config-file PATH)");
  });
});

describe("usage errors: exit 2, the usage with the stacks there are, never a stack trace", () => {
  it.each([
    [["dev"], 'plan: unexpected argument "dev" (did you mean --stack dev?)'],
    [["--stack", "dev", "--bogus"], "plan: Unknown option '--bogus'"],
    [["--stack", "staging"], "plan: no stack staging (no Pulumi.staging.yaml)"],
    [["--config-file", "stacks/nope.yaml"], "plan: no stack file stacks/nope.yaml"],
    [["--stack", "dev", "--json", "--diagram"], "plan: --json, --diagram are exclusive"],
    [["--stack", "../x"], 'plan: --stack "../x" is not a stack name'],
  ])("%j", (args, message) => {
    const r = plan(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toContain(message);
    expect(r.stderr).toContain("available stacks: --stack dev, --stack prod");
    expect(r.stderr).toContain("--config-file stacks/arc-fleet.yaml");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("--help prints the usage and exits 0", () => {
    const r = plan("--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--diff OLD.json");
    expect(r.stdout).toContain("available stacks:");
  });

  it("an unreadable saved plan is exit 1 with a message", () => {
    const file = join(mkdtempSync(join(tmpdir(), "keyless-plan-")), "bad.json");
    writeFileSync(file, "{not json");
    const r = plan("--plan-file", file, "--diff", file);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^plan: cannot read plan .*bad\.json: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("the fleet stack, as a user runs it", () => {
  const r = plan("--config-file", join(root, "stacks/arc-fleet.yaml"));
  it("shows three servers with their own identities, one grant row each, unknown ids, no invented results", () => {
    expect(r.status).toBe(0);
    // Each server: two blob containers, the probe secret and arc-app-config; and the deployer's grant.
    expect(r.stdout).toContain("Role grants: 13\n");
    const grants = r.stdout.slice(r.stdout.indexOf("Role grants: 13"), r.stdout.indexOf("Who reaches what"));
    for (const m of ["arc-lnx-01", "arc-lnx-02", "arc-win-01"]) expect(grants.split(`${m} (system identity)`).length - 1).toBe(4);
    expect(grants.split("the deploying principal").length - 1).toBe(1);
    expect(r.stdout).toContain("(known after apply)");
    expect(r.stdout).not.toMatch(/04da6b54|\[object Object\]|Succeeded|: OK|\[secret\]/);
    // The adopted server's identity is read from Azure at preview: offline there is nothing to read.
    const outputs = r.stdout.slice(r.stdout.indexOf("Outputs:"));
    expect(outputs).toMatch(/"arc-win-01": \{\n\s+"machineId": "[^"]+",\n\s+"principalId": "\(known after apply\)"/);
  });
});

describe("npm run plan -- --identity-map", () => {
  it("writes Graphviz DOT with --out x.dot: one node per workload, identity and resource, one legend", () => {
    const out = join(mkdtempSync(join(tmpdir(), "keyless-map-")), "map.dot");
    const r = plan("--config-file", join(root, "stacks/arc-fleet.yaml"), "--identity-map", "--out", out);
    expect(r.status).toBe(0);
    const dot = readFileSync(out, "utf8");
    expect(dot.startsWith("digraph identity_map {\n")).toBe(true);
    expect(dot.match(/subgraph cluster_legend/g)).toHaveLength(1);
    for (const m of ["arc-lnx-01", "arc-lnx-02", "arc-win-01"]) {
      expect(dot).toContain(`label="${m}\\nArc server"`);
      expect(dot).toContain(`label="${m}\\n(system identity)"`);
    }
    expect(dot).not.toMatch(/04da6b54|known after apply|\/subscriptions\//);
  });

  it("refuses --out without --identity-map", () => {
    const r = plan("--stack", "dev", "--out", "x.svg");
    expect(r.status).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe("plan: --out goes with --identity-map");
  });
});

describe("output piped to a reader that stops early", () => {
  it("ends quietly with exit 0 (npm run plan -- --json | head)", () => {
    // `head -c 1` closes the pipe after one byte; the plan must not crash with EPIPE.
    const r = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" --require ./tools/runtime/register.cjs tools/plan/cli.ts --stack dev --json 2>/tmp/keyless-epipe.$$ | head -c 1 >/dev/null; s=$?; grep -c EPIPE /tmp/keyless-epipe.$$; rm -f /tmp/keyless-epipe.$$; exit $s`], { cwd: root, encoding: "utf8" });
    expect({ status: r.status, epipeLines: r.stdout.trim() }).toEqual({ status: 0, epipeLines: "0" });
  });
});
