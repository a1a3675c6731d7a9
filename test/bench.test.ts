import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { criticalPath, type GraphNode, longestPath } from "../tools/bench/critical-path";
import { provisionSeconds, provisionTimes } from "../tools/bench/provision-times";
import { arcServers, gallerySection, scaleStack, syntheticGuid } from "../tools/bench/stacks";
import { linearity, median, unknownSection } from "../tools/bench/stats";

// The benchmark's pure parts. Its timings are measured by `npm run bench`, never asserted here.

describe("median", () => {
  it("takes the middle sample, or the mean of the middle two", () => {
    expect(median([5])).toBe(5);
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
  it("refuses no samples", () => {
    expect(() => median([])).toThrow("median of no samples");
  });
});

describe("linearity", () => {
  it("passes a fixed start-up cost plus a constant cost per server", () => {
    // 1000 ms start-up + 4 ms per server.
    const r = linearity([
      { servers: 10, wallMs: 1040 },
      { servers: 100, wallMs: 1400 },
      { servers: 500, wallMs: 3000 },
    ]);
    expect(r.perServerMs).toBe(4);
    expect(r.predictedMs).toBe(3000);
    expect(r.ratio).toBe(1);
    expect(r.pass).toBe(true);
  });
  it("fails quadratic growth", () => {
    // 1000 ms + 0.05 ms x servers^2.
    const t = (n: number) => 1000 + 0.05 * n * n;
    const r = linearity([10, 100, 500].map((servers) => ({ servers, wallMs: t(servers) })));
    expect(r.ratio).toBeGreaterThan(1.2);
    expect(r.pass).toBe(false);
  });
  it("sorts its points and tolerates exactly 1.2x", () => {
    const r = linearity([
      { servers: 500, wallMs: 1200 * 1.2 },
      { servers: 10, wallMs: 1000 + 10 * 0.4082 },
      { servers: 100, wallMs: 1000 + 100 * 0.4082 },
    ]);
    expect(r.predictedMs).toBeCloseTo(1000 + 500 * 0.4082, 6);
    expect(linearity([{ servers: 10, wallMs: 10 }, { servers: 100, wallMs: 100 }, { servers: 500, wallMs: 600 }]).pass).toBe(true);
    expect(linearity([{ servers: 10, wallMs: 10 }, { servers: 100, wallMs: 100 }, { servers: 500, wallMs: 601 }]).pass).toBe(false);
    expect(r.actualMs).toBe(1440);
  });
});

const node = (urn: string, type: string, deps: string[] = [], props: string[] = deps, parent = "stack", custom = true): GraphNode => ({
  urn,
  type,
  custom,
  parent,
  dependencies: deps,
  propertyDependencies: props,
});
const times: Record<string, number> = { rg: 3, aks: 600, role: 10, vault: 30, reg: 60, k8s: 60, img: 300 };
const seconds = (t: string) => times[t] ?? 0;

describe("critical path", () => {
  // rp (registration, inside the ProviderRegistrations component) -> aks; rg -> aks -> role;
  // rg -> vault; a k8s workload waits on the whole "platform" component (vault + its role) by dependsOn only.
  const graph: GraphNode[] = [
    node("stack", "pulumi:pulumi:Stack", [], [], "", false),
    node("providers", "pulumi:providers:azure-native"),
    node("regs", "keyless:platform:ProviderRegistrations", [], [], "stack", false),
    node("rp", "reg", [], [], "regs"),
    node("rg", "rg", ["providers"]),
    node("aks", "aks", ["rg", "rp"], ["rg"]),
    node("aks-role", "role", ["aks"]),
    node("platform", "keyless:vault:KeyVault", [], [], "stack", false),
    node("vault", "vault", ["rg"], ["rg"], "platform"),
    node("vault-role", "role", ["vault"], ["vault"], "platform"),
    node("app", "k8s", ["aks", "platform"], ["aks"]),
  ];

  it("follows every wait, expanding a component to the resources inside it", () => {
    const r = longestPath(graph, seconds, (n) => n.dependencies);
    expect(r.seconds).toBe(60 + 600 + 60);
    expect(r.chain.map((l) => l.urn)).toEqual(["rp", "aks", "app"]);
  });

  it("models the deploy next to its lower bound: data edges plus provider registrations", () => {
    const cp = criticalPath(graph, seconds);
    expect(cp.modeled.seconds).toBe(720);
    // aks reads nothing from rp, but a namespace must be registered before Azure creates in it.
    expect(cp.lowerBound.seconds).toBe(720);
    expect(cp.excess).toBe(0);
  });

  it("shows an avoidable wait: a dependsOn that puts a slow resource in front of AKS", () => {
    const slow = [...graph.filter((n) => n.urn !== "aks"), node("img", "img", ["rg"]), node("aks", "aks", ["rg", "rp", "img"], ["rg"])];
    const cp = criticalPath(slow, seconds);
    expect(cp.modeled.seconds).toBe(3 + 300 + 600 + 60);
    expect(cp.modeled.chain.map((l) => l.urn)).toEqual(["rg", "img", "aks", "app"]);
    expect(cp.lowerBound.seconds).toBe(720);
    expect(cp.excess).toBeCloseTo((963 - 720) / 720, 6);
  });

  it("costs providers, components and the stack nothing and refuses a cycle", () => {
    expect(longestPath([node("p", "pulumi:providers:x")], () => 99, (n) => n.dependencies).seconds).toBe(0);
    const cyclic = [node("a", "rg", ["b"]), node("b", "rg", ["a"])];
    expect(() => longestPath(cyclic, seconds, (n) => n.dependencies)).toThrow("dependency cycle");
  });
});

describe("provision times", () => {
  it("cites a source for every figure and falls back to 30 s for an unknown type", () => {
    for (const [type, row] of Object.entries(provisionTimes)) {
      expect(row.seconds, type).toBeGreaterThan(0);
      expect(row.source.length, type).toBeGreaterThan(20);
    }
    expect(provisionSeconds("azure-native:containerservice:ManagedCluster")).toEqual({ seconds: 600, known: true });
    expect(provisionSeconds("azure-native:web:WebApp")).toEqual({ seconds: 30, known: false });
  });
});

describe("generated stacks", () => {
  const base = ["config:", "  azure-native:location: japaneast", "  keyless:workload: keyless", "  keyless:storage:", "    containers:", "      - arcupload"].join("\n");

  it("names N adopted Arc servers uniquely, within Azure's machine-name rule", () => {
    const servers = arcServers(500);
    expect(servers).toHaveLength(500);
    expect(new Set(servers.map((s) => s.name)).size).toBe(500);
    expect(servers[0]).toEqual({ name: "arc-bench-001", os: "linux", onboard: "existing", resourceGroup: "rg-arc-onboarded" });
    for (const s of servers) expect(s.name).toMatch(/^[a-zA-Z0-9-]{1,54}$/);
  });

  it("makes distinct GUID principals for the Lighthouse authorizations", () => {
    const auths = (gallerySection(50).sharing as { lighthouse: { authorizations: Array<{ principalId: string; role: string }> } }).lighthouse.authorizations;
    expect(new Set(auths.map((a) => a.principalId)).size).toBe(50);
    for (const a of auths) expect(a.principalId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(syntheticGuid(255)).toBe("00000000-0000-4000-8000-0000000000ff");
  });

  it("adds the sections to the base stack file, keeping its keys, deterministically", () => {
    const text = scaleStack(base, { arcServers: 10, authorizations: 10 });
    expect(scaleStack(base, { arcServers: 10, authorizations: 10 })).toBe(text);
    const config = (parse(text) as { config: Record<string, any> }).config;
    expect(config["keyless:workload"]).toBe("keyless");
    expect(config["keyless:arc"].servers).toHaveLength(10);
    expect(config["keyless:arc"].grants).toEqual({ blobContainers: ["arcupload"], keyVault: "secrets-user" });
    expect(config["keyless:gallery"].sharing.lighthouse.authorizations).toHaveLength(10);
    expect(() => scaleStack("config: {}", { arcServers: 1 })).toThrow("no keyless:storage.containers");
  });
});

describe("generated stacks: the foundation's container series", () => {
  it("appends N valid, unique containers to the base stack's own", () => {
    const base = ["config:", "  keyless:storage:", "    sku: Standard_LRS", "    containers:", "      - arcupload"].join("\n");
    const storage = (parse(scaleStack(base, { containers: 100 })) as { config: Record<string, any> }).config["keyless:storage"];
    expect(storage.sku).toBe("Standard_LRS");
    expect(storage.containers).toHaveLength(101);
    expect(storage.containers.slice(0, 2)).toEqual(["arcupload", "bench-001"]);
    expect(new Set(storage.containers).size).toBe(101);
    for (const c of storage.containers) expect(c).toMatch(/^(?=.{3,63}$)[a-z0-9](?!.*--)[a-z0-9-]*[a-z0-9]$/);
  });
});

describe("unknownSection", () => {
  it("names a section the build does not know, and nothing for a bad value inside a known one", () => {
    expect(unknownSection('invalid configuration:\n  keyless:arc: {"servers":[]} is not a known key')).toBe("arc");
    expect(unknownSection('invalid configuration:\n  keyless:arc.servers[0].name: "x y" must be 1-54 letters')).toBeUndefined();
    expect(unknownSection('invalid configuration:\n  keyless:arc.servers[0].colour: "red" is not a known key')).toBeUndefined();
  });
});
