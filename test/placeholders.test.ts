import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { findPlaceholders, placeholderKind, placeholderMessage } from "../lib/config/placeholders";
import { planStack, root, stackConfig } from "./support/harness";

// Example values a user must replace: recognised by value (the conventions in lib/config/placeholders.ts),
// listed as warnings by the offline plan and preview, refused by `pulumi up`.

describe("placeholderKind", () => {
  it.each<[string, ReturnType<typeof placeholderKind>]>([
    ["11111111-1111-4111-8111-111111111111", "guid"],
    ["00000000-0000-0000-0000-000000000000", "guid"],
    ["FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF", "guid"],
    ["/subscriptions/88888888-8888-4888-8888-888888888888/resourceGroups/rg/providers/Microsoft.Compute/images/x", "guid"],
    ["3f2b8c1d-6e4a-4b7c-9d0e-1a2b3c4d5e6f", undefined],
    ["11111111-1111-4111-8111-111111111112", undefined],
    ["192.0.2.10", "ip"],
    ["198.51.100.7", "ip"],
    ["203.0.113.0/24", "ip"],
    ["203.0.113.255", "ip"],
    ["10.0.2.10", undefined],
    ["192.0.20.1", undefined],
    ["1203.0.113.5", undefined],
    ["arc-01.example.com", "host"],
    ["example.org", "host"],
    ["build.contoso.example", "host"],
    ["https://keyless.example.net/callback", "host"],
    ["example.com.contoso.io", undefined],
    ["myexample.com", undefined],
    ["arc-01.contoso.com", undefined],
    ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDdfyYWHLES+A7ig5KbHw546hfkta22oRB+UNKibxQzh keyless-example", "sshKey"],
    ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDdfyYWHLES+A7ig5KbHw546hfkta22oRB+UNKibxQzh alice@laptop", undefined],
    ["repo:<owner>/<repo>:environment:dev", "marker"],
    ["repo:contoso/keyless:environment:dev", undefined],
    ["keyless", undefined],
  ])("%s -> %s", (value, kind) => {
    expect(placeholderKind(value)).toBe(kind);
  });
});

describe("findPlaceholders", () => {
  it("names each key by its full path, with what to put there, and never reads a secret", () => {
    const values = {
      "azure-native:location": "japaneast",
      "azure-native:tenantId": "77777777-7777-4777-8777-777777777777",
      "keyless:workload": "keyless",
      "keyless:arc": JSON.stringify({ servers: [{ name: "a", ssh: { host: "192.0.2.10", user: "u" } }], onboarding: { servicePrincipalId: "00000000-0000-0000-0000-000000000000" } }),
      "keyless:aks": JSON.stringify({ adminGroupObjectIds: ["4f1d5c2a-8b3e-4c7d-9a6f-2e1b0c9d8a7f", "55555555-5555-4555-8555-555555555555"] }),
      "keyless:arcSecrets": JSON.stringify({ sshPrivateKeys: { a: "<paste the key>" } }),
    };
    const found = findPlaceholders(values, new Set(["keyless:arcSecrets"]));
    expect(found.map(placeholderMessage)).toEqual([
      'azure-native:tenantId: "77777777-7777-4777-8777-777777777777" is a placeholder; replace it with your tenant id (az account show --query tenantId -o tsv)',
      'keyless:aks.adminGroupObjectIds[1]: "55555555-5555-4555-8555-555555555555" is a placeholder; replace it with the object id of an Entra group (az ad group show --group NAME --query id -o tsv)',
      'keyless:arc.servers[0].ssh.host: "192.0.2.10" is a placeholder; replace it with the address or DNS name this machine reaches the server at over SSH',
      'keyless:arc.onboarding.servicePrincipalId: "00000000-0000-0000-0000-000000000000" is a placeholder; replace it with the application (client) id of your onboarding service principal (az ad sp list --display-name NAME --query [].appId -o tsv)',
    ]);
  });

  it("shows a long value by its start and end", () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDdfyYWHLES+A7ig5KbHw546hfkta22oRB+UNKibxQzh keyless-example";
    expect(placeholderMessage(findPlaceholders({ "keyless:vm": JSON.stringify({ sshPublicKey: key }) })[0])).toBe(
      'keyless:vm.sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NT...2oRB+UNKibxQzh keyless-example" is a placeholder; replace it with your own SSH public key (the contents of ~/.ssh/id_ed25519.pub)',
    );
  });
});

describe("the dev stack", () => {
  const dev = stackConfig("dev");
  const expected = findPlaceholders(dev.values, new Set(dev.secretKeys)).map(placeholderMessage);

  it("marks its example values as placeholders: the gallery's tenant and principals, the VM's SSH key", () => {
    for (const key of [
      "keyless:gallery.sharing.lighthouse.managedByTenantId",
      "keyless:gallery.sharing.lighthouse.authorizations[0].principalId",
      "keyless:gallery.sharing.lighthouse.authorizations[1].principalId",
      "keyless:gallery.sharing.rbac[0].principalId",
      "keyless:vm.sshPublicKey",
    ]) {
      expect(expected.some((m) => m.startsWith(`${key}: `)), key).toBe(true);
    }
  });

  // The secrets are never read, but the file's example ciphertexts are recognisable.
  const exampleCiphertexts = ["arc-dev-lnx", "arc-dev-win"].map(
    (s) => `keyless:arcSecrets.sshPrivateKeys.${s}: the stack file holds an example ciphertext; set yours with pulumi config set --secret --path 'keyless:arcSecrets.sshPrivateKeys.${s}' (for a key file: < ~/.ssh/KEY)`,
  );

  it("the offline plan lists every placeholder as a warning, example ciphertexts too", async () => {
    const plan = await planStack("dev");
    expect(plan.warnings).toEqual(expect.arrayContaining([...expected, ...exampleCiphertexts]));
  });

  /** `pulumi up` of a stack file under the mocks, in a process of its own (test/support/up.ts). */
  function up(values: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), "keyless-up-"));
    const file = join(dir, "Pulumi.dev.yaml");
    const config: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      try {
        config[k] = JSON.parse(v);
      } catch {
        config[k] = v;
      }
    }
    writeFileSync(file, stringify({ config }));
    const r = spawnSync(process.execPath, ["--require", join(root, "tools/runtime/register.cjs"), join(root, "test/support/up.ts"), file, "dev"], { cwd: root, encoding: "utf8" });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("`pulumi up` (the program outside preview) stops before creating anything, with the same lines", () => {
    const stackFile = parse(readFileSync(join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(Object.entries(stackFile.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    expect(up(raw)).toEqual({ status: 1, stdout: "", stderr: `the stack still has example values; replace them before pulumi up:\n  ${[...expected, ...exampleCiphertexts].join("\n  ")}\n` });
  });

  it("`pulumi up` goes ahead once the values are real", () => {
    const stackFile = parse(readFileSync(join(root, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const real: Record<string, string> = {};
    for (const [k, v] of Object.entries(stackFile.config)) {
      real[k] = (typeof v === "string" ? v : JSON.stringify(v))
        .replace(/\b([0-9a-f])\1{7}-\1{4}-[0-9a-f]\1{3}-[0-9a-f]\1{3}-\1{12}\b/gi, (g) => `${g.slice(0, 7)}a${g.slice(8)}`)
        .replace(/keyless-example/g, "alice@laptop")
        .replace(/(192\.0\.2|198\.51\.100|203\.0\.113)\./g, "10.1.2.")
        .replace(/example\.(com|org|net)/g, "contoso.io")
        .replace(/v1:PLACEHOLDER/g, "v1:AAABADQ6");
    }
    expect(findPlaceholders(real)).toEqual([]);
    const r = up(real);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^registered \d+ resources\n$/);
    expect(r.status).toBe(0);
  });
});
