import { describe, expect, it } from "vitest";
import { parseConfig } from "../lib/config";

// `pulumi config set` without --path stores "keyless:vm.size" as one key with a dot in its name. The
// message says so and gives the command that fixes it, instead of a misleading secret or unknown-key one.

const base = { "azure-native:location": "japaneast", "keyless:workload": "keyless" };

describe("a dotted key set without --path", () => {
  it.each<[string, boolean, string]>([
    ["keyless:vm.size", false, `keyless:vm.size: is a key named "vm.size" to Pulumi, not a path into keyless:vm; set it again with pulumi config set --path 'keyless:vm.size' (and remove this one with pulumi config rm 'keyless:vm.size')`],
    [
      "keyless:arcSecrets.servicePrincipalSecret",
      true,
      `keyless:arcSecrets.servicePrincipalSecret: is a key named "arcSecrets.servicePrincipalSecret" to Pulumi, not a path into keyless:arcSecrets; set it again with pulumi config set --secret --path 'keyless:arcSecrets.servicePrincipalSecret' (and remove this one with pulumi config rm 'keyless:arcSecrets.servicePrincipalSecret')`,
    ],
    ["keyless:storage.containers[0]", false, `keyless:storage.containers[0]: is a key named "storage.containers[0]" to Pulumi, not a path into keyless:storage; set it again with pulumi config set --path 'keyless:storage.containers[0]' (and remove this one with pulumi config rm 'keyless:storage.containers[0]')`],
  ])("%s (secret: %s)", (key, secret, message) => {
    const r = parseConfig({ values: { ...base, [key]: "x" }, secretKeys: new Set(secret ? [key] : []), project: "keyless", stack: "dev" });
    expect(r).toEqual({ ok: false, errors: [message] });
  });

  it("leaves an unknown dotted key to the unknown-key message", () => {
    const r = parseConfig({ values: { ...base, "keyless:colour.red": "x" }, secretKeys: new Set(), project: "keyless", stack: "dev" });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors).toEqual([expect.stringMatching(/^keyless:colour\.red: "x" /)]);
  });
});
