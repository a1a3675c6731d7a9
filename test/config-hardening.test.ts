import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../lib/config";
import { stackFileFacts } from "../lib/config/stack-file-facts";
import { readStackConfig } from "../tools/plan/stack-file";
import { root } from "./support/harness";

// Config hardening: prototype keys at any level, secret-only keys checked leaf by leaf, and names
// YAML typed as booleans, nulls or numbers. Each case goes through the stack-file reader and
// parseConfig as the offline plan and `pulumi up` use them.

const base = readFileSync(`${root}/stacks/arc-fleet.yaml`, "utf8");

/** Parse a stack file's text the way the program does (values + secret keys + file facts). */
function check(text: string) {
  const dir = mkdtempSync(join(tmpdir(), "keyless-hardening-"));
  try {
    const file = join(dir, "Pulumi.arc.yaml");
    writeFileSync(file, text);
    const c = readStackConfig(file, { "keyless:registerProviders": "true" });
    const r = parseConfig({ values: c.values, secretKeys: new Set(c.secretKeys), project: "keyless", stack: "arc", stackFile: stackFileFacts(text) });
    return r.ok ? [] : r.errors;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const add = (lines: string) => base.replace("  keyless:storage:\n", `${lines}\n  keyless:storage:\n`);

describe("config hardening", () => {
  it("accepts the example fleet as it is", () => {
    expect(check(base)).toEqual([]);
  });

  it.each<[string, string, string[]]>([
    [
      "keyless:__proto__ smuggling a plain secret",
      add("  keyless:__proto__:\n    arcSecrets:\n      servicePrincipalSecret: plain-text-secret"),
      ["keyless:__proto__: [value hidden] is not a config key: __proto__, constructor and prototype are refused at any level"],
    ],
    [
      "keyless:__proto__ turning production on",
      add("  keyless:__proto__:\n    production: true"),
      ["keyless:__proto__: [value hidden] is not a config key: __proto__, constructor and prototype are refused at any level"],
    ],
    ["constructor at the top", add("  keyless:constructor: {}"), ["keyless:constructor: [value hidden] is not a config key: __proto__, constructor and prototype are refused at any level"]],
    [
      "__proto__ inside a map",
      base.replace("    owner: platform\n", "    owner: platform\n    __proto__: {x: y}\n"),
      ["keyless:tags.__proto__: [value hidden] is not a config key: __proto__, constructor and prototype are refused at any level"],
    ],
    [
      "prototype deep in a list",
      base.replace("        users: [azureuser]\n", "        users: [azureuser]\n        ssh2: [{prototype: 1}]\n"),
      ["keyless:arc.servers[0].ssh2[0].prototype: [value hidden] is not a config key: __proto__, constructor and prototype are refused at any level"],
    ],
    [
      "a plain leaf beside secure ones in a secret-only key",
      base.replace("  keyless:arcSecrets:\n", "  keyless:arcSecrets:\n    servicePrincipalSecret: plain-text-secret\n"),
      [
        "keyless:arcSecrets.servicePrincipalSecret: [value hidden] must be stored as a secret like every value under keyless:arcSecrets (pulumi config set --secret --path 'keyless:arcSecrets.servicePrincipalSecret' ...)",
        "keyless:arcSecrets.servicePrincipalSecret: [secret] must not be set with keyless:arc.onboarding.method: access-token (a long-lived secret nothing uses); remove it (pulumi config rm --path 'keyless:arcSecrets.servicePrincipalSecret') or set method: service-principal",
      ],
    ],
    [
      "a plain SSH key beside a secure one",
      base.replace("      arc-lnx-02:\n        secure: v1:PLACEHOLDER0ssh0key0arc0lnx002==\n", "      arc-lnx-02: not-encrypted\n"),
      ["keyless:arcSecrets.sshPrivateKeys.arc-lnx-02: [value hidden] must be stored as a secret like every value under keyless:arcSecrets (pulumi config set --secret --path 'keyless:arcSecrets.sshPrivateKeys.arc-lnx-02' ...)"],
    ],
    ["a boolean where a name is expected", base.replace("  keyless:workload: keyless\n", "  keyless:workload: true\n"), ['keyless:workload: true is a YAML boolean where a name is expected; quote it ("true") if it is meant as the name']],
    ["a number as the environment", base.replace("  keyless:environment: arc\n", "  keyless:environment: 2024\n"), ['keyless:environment: 2024 is a YAML number where a name is expected; quote it ("2024") if it is meant as the name']],
    ["null as a map key", base.replace("    owner: platform\n", "    owner: platform\n    null: x\n"), ['keyless:tags: the key null is a YAML null, not a name; quote it ("null") if a name is meant', 'keyless:tags.: "x" is not a legal tag name: 1-128 characters, none of < > % & \\ ? /']],
    [
      "a boolean as a server's key name",
      base.replace("      arc-lnx-02:\n        secure: v1:PLACEHOLDER0ssh0key0arc0lnx002==\n", "      arc-lnx-02:\n        secure: v1:PLACEHOLDER0ssh0key0arc0lnx002==\n      true:\n        secure: v1:PLACEHOLDER==\n"),
      [
        'keyless:arcSecrets.sshPrivateKeys: the key true is a YAML boolean, not a name; quote it ("true") if a name is meant',
        "keyless:arcSecrets.sshPrivateKeys.true: [secret] is for no onboard: ssh server in keyless:arc.servers (arc-lnx-01, arc-lnx-02); remove it (pulumi config rm --path 'keyless:arcSecrets.sshPrivateKeys.true')",
      ],
    ],
  ])("refuses %s", (_, text, errors) => {
    expect(check(text)).toEqual(errors);
  });

  it("does not judge a leaf the stack file does not hold (an imported ESC environment's, say)", () => {
    // The config holds arc-lnx-02's key, marked secret; the file the program reads does not.
    const c = readStackConfig(`${root}/stacks/arc-fleet.yaml`, { "keyless:registerProviders": "true" });
    const without = base.replace("      arc-lnx-02:\n        secure: v1:PLACEHOLDER0ssh0key0arc0lnx002==\n", "");
    expect(without).not.toBe(base);
    expect(parseConfig({ values: c.values, secretKeys: new Set(c.secretKeys), project: "keyless", stack: "arc", stackFile: stackFileFacts(without) })).toMatchObject({ ok: true });
  });

  it("keeps a quoted name a name", () => {
    expect(check(base.replace("    owner: platform\n", '    owner: platform\n    "true": x\n'))).toEqual([]);
  });
});
