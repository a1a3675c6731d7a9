import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { namespacesOf } from "../lib/resource-providers";
import { parentTypeOf } from "../policy/readiness";
import { readStackConfig } from "../tools/plan/stack-file";
import { UNKNOWN } from "../tools/plan/engine";
import { checkResources, readPolicyConfig } from "../tools/plan/policy";
import { planProgram, resource, root, transitiveDependencies } from "./support/harness";

// Every stack file of the repository plans offline and passes every rule, readiness rules included,
// as `npm run plan -- --config-file F --policy` checks it (CI runs the same over each file).

const files = [...readdirSync(root).filter((f) => /^Pulumi\..+\.yaml$/.test(f) && f !== "Pulumi.yaml"), ...readdirSync(join(root, "stacks")).map((f) => `stacks/${f}`)].sort();

async function plan(file: string) {
  const c = readStackConfig(join(root, file));
  const stack = file.replace(/^stacks\//, "").replace(/^Pulumi\./, "").replace(/\.yaml$/, "");
  return { stack, production: c.values["keyless:production"] === "true", plan: await planProgram(c.values, { stack, secretKeys: c.secretKeys }) };
}

describe("every stack file passes every rule", () => {
  it("covers the repository's stack files", () => {
    expect(files).toEqual(expect.arrayContaining(["Pulumi.dev.yaml", "Pulumi.prod.yaml", "stacks/aks-pod-identity.yaml", "stacks/arc-fleet.yaml"]));
  });

  it.each(files)("%s", async (file) => {
    const { stack, production, plan: p } = await plan(file);
    const config = readPolicyConfig(join(root, "policy/config", `${stack}.json`), false);
    expect(checkResources(p.resources, { production, config })).toEqual([]);
  });
});

describe("no two resources the engine or Azure would take for one", () => {
  // The engine refuses a second registration of a URN; azure-native refuses to create a resource whose
  // ARM id exists ("cannot create already existing resource", provider.go). The mock engine checks neither.
  it.each(files)("%s: URNs and ARM ids are unique", async (file) => {
    const { plan: p } = await plan(file);
    const urns = p.resources.map((r) => r.urn);
    expect(urns.filter((u, i) => urns.indexOf(u) !== i)).toEqual([]);
    const ids = p.resources.filter((r) => r.custom && r.type.startsWith("azure-native:") && typeof r.outputs.id === "string" && r.outputs.id !== UNKNOWN).map((r) => String(r.outputs.id).toLowerCase());
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });
});

describe("provider registration reaches every resource, whichever component creates it", () => {
  it("Arc onboarding commands and run commands wait for Microsoft.HybridCompute and friends", async () => {
    const { plan: p } = await plan("stacks/arc-fleet.yaml");
    const reg = (ns: string) => resource(p, "command:local:Command", `resource-providers-${ns.toLowerCase()}`).urn;
    const arc = p.resources.filter((r) => r.type === "command:remote:Command" || r.type === "azure-native:hybridcompute:MachineRunCommand");
    expect(arc.length).toBeGreaterThan(2);
    for (const r of arc) expect(r.dependencies, r.name).toContain(reg("Microsoft.HybridCompute"));
    for (const r of p.resources.filter((x) => x.type === "command:remote:Command")) {
      expect(r.dependencies, r.name).toEqual(expect.arrayContaining([reg("Microsoft.GuestConfiguration"), reg("Microsoft.HybridConnectivity")]));
    }
  });

  it.each(files)("%s: each resource with a namespace waits for that namespace's registration", async (file) => {
    const { plan: p } = await plan(file);
    const regs = new Map(p.resources.filter((r) => r.name.startsWith("resource-providers-")).map((r) => [r.name.replace("resource-providers-", ""), r.urn]));
    for (const r of p.resources) {
      if (r.type.startsWith("pulumi:") || r.name.startsWith("resource-providers-")) continue;
      const lookup = namespacesOf(r.type, parentTypeOf(r.urn));
      expect("namespaces" in lookup, `${r.type} ${r.name}`).toBe(true);
      if (!("namespaces" in lookup) || regs.size === 0) continue;
      const waits = transitiveDependencies(p, r.urn);
      for (const ns of lookup.namespaces) expect(waits.has(regs.get(ns.toLowerCase()) ?? "none"), `${r.name} waits for ${ns}`).toBe(true);
    }
  });
});
