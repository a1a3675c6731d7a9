import { spawnSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { defaultParallel, deployModel, type GraphNode, longestPath, scheduled } from "../tools/bench/critical-path";
import { provisionSeconds, provisionTimes } from "../tools/bench/provision-times";
import { fromWire, sdkClassFor } from "../tools/bench/replay";
import { arcSecretsSection, arcServers, documentationAddress, gallerySection, scaleStack, syntheticGuid } from "../tools/bench/stacks";
import { growth, median, pairedRatios, roundOrder, summarize, theilSen, unknownSection } from "../tools/bench/stats";
import { root } from "./support/harness";

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

describe("summarize", () => {
  it.each([
    [[5], { median: 5, min: 5, max: 5, n: 1 }],
    [[3, 1, 2], { median: 2, min: 1, max: 3, n: 3 }],
    [[10, 40, 20, 30], { median: 25, min: 10, max: 40, n: 4 }],
  ])("%j", (samples, expected) => {
    expect(summarize(samples)).toEqual(expected);
  });
});

describe("paired ratios", () => {
  it.each([
    // subject, floor, ratios: each pair divided by its own floor, so drift cancels
    [[200, 400], [100, 200], [2, 2]],
    [[150, 300, 150], [100, 100, 100], [1.5, 3, 1.5]],
  ])("%j / %j", (subject, floor, ratios) => {
    expect(pairedRatios(subject, floor)).toEqual(ratios);
  });
  it.each([
    [[1, 2], [1], "pairs need as many subject samples as floor samples (2 vs 1)"],
    [[], [], "no pairs"],
    [[1], [0], "floor sample 0 is 0: a ratio needs a positive floor"],
  ])("refuses %j / %j", (subject, floor, message) => {
    expect(() => pairedRatios(subject, floor)).toThrow(message);
  });
  it.each([
    [2, [[0, 1], [1, 0], [0, 1], [1, 0]]],
    [3, [[0, 1, 2], [1, 2, 0], [2, 0, 1]]],
  ])("rotates which of %i sides runs first", (sides, orders) => {
    expect(orders.map((_, round) => roundOrder(round, sides))).toEqual(orders);
  });
  it("refuses a round of no sides", () => {
    expect(() => roundOrder(0, 0)).toThrow("a round needs a whole number of sides >= 1, not 0");
  });
});

describe("Theil-Sen fit", () => {
  it.each([
    ["an exact line", [[0, 1], [1, 3], [2, 5], [3, 7]], 2, 1],
    ["one wild outlier barely moves it", [[0, 1], [1, 3], [2, 5], [3, 70], [4, 9]], 2, 1],
    ["repeated x values (samples at each size)", [[0, 0], [0, 2], [10, 10], [10, 12]], 1, 1],
  ])("%s", (_what, pts, slope, intercept) => {
    const fit = theilSen(pts.map(([x, y]) => ({ x, y })));
    expect(fit.slope).toBeCloseTo(slope, 9);
    expect(fit.intercept).toBeCloseTo(intercept, 9);
  });
  it("needs two x values", () => {
    expect(() => theilSen([{ x: 1, y: 1 }, { x: 1, y: 2 }])).toThrow("a line fit needs points at two or more x values");
  });
});

describe("fleet growth", () => {
  const samples = (t: (n: number) => number, sizes = [0, 50, 150, 500], noise: number[] = [0]) =>
    sizes.flatMap((n) => noise.map((e) => ({ x: n, y: t(n) * (1 + e) })));
  it.each([
    // fixed start-up + cost per server: exponent 1 however large the start-up
    ["linear, 1 s start-up, 20 ms per server", (n: number) => 1000 + 20 * n, 1, true],
    ["linear, 10 s start-up", (n: number) => 10000 + 5 * n, 1, true],
    ["quadratic", (n: number) => 1000 + 0.05 * n * n, 2, false],
    ["n log n bends the exponent above 1", (n: number) => 1000 + 2 * n * Math.log(n + 1), 1.15, undefined],
  ])("%s", (_what, t, exponent, linear) => {
    const g = growth(samples(t));
    if (linear !== undefined) {
      expect(g.exponent).toBeCloseTo(exponent, 6);
      expect(g.linear).toBe(linear);
    } else expect(g.exponent).toBeGreaterThan(1);
  });
  it("is robust to one slow sample at the largest size", () => {
    const pts = samples((n) => 1000 + 20 * n, [0, 50, 150, 500], [0, 0.01, -0.01]);
    pts.push({ x: 500, y: 40000 }); // one run on a loaded machine
    const g = growth(pts);
    expect(g.msPerItem).toBeCloseTo(20, 0);
    expect(g.exponent).toBeCloseTo(1, 1);
    expect(g.linear).toBe(true);
  });
  it("needs the 0-server run and two other sizes", () => {
    expect(() => growth([{ x: 50, y: 1 }, { x: 150, y: 2 }, { x: 500, y: 3 }])).toThrow("growth needs size 0 and at least two other sizes");
    expect(() => growth([{ x: 0, y: 1 }, { x: 500, y: 3 }])).toThrow("growth needs size 0 and at least two other sizes");
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

  it.each([
    // parallel, scheduled seconds: with 1 slot every resource runs alone (sum of all work);
    // with enough slots the deploy is its critical path.
    [1, 60 + 3 + 600 + 10 + 30 + 10 + 60],
    [2, 720],
    [100, 720],
  ])("replays the deploy with %i slot(s)", (parallel, expected) => {
    expect(scheduled(graph, seconds, parallel).seconds).toBe(expected);
  });

  it("bounds the deploy below by the critical path and by the work per slot", () => {
    const m = deployModel(graph, seconds, 1);
    expect(m.criticalPath.seconds).toBe(720);
    expect(m.workSeconds).toBe(773);
    expect(m.lowerBoundSeconds).toBe(773);
    expect(m.scheduled.seconds).toBe(773);
    expect(deployModel(graph, seconds, 8).lowerBoundSeconds).toBe(720);
  });

  it("shows a fleet limited by the slots, not by its chains", () => {
    // 100 independent onboardings of 120 s each: 13 rounds of 8 slots, not 120 s.
    const fleet = Array.from({ length: 100 }, (_, i) => node(`cmd-${String(i).padStart(3, "0")}`, "cmd"));
    const m = deployModel(fleet, (t) => (t === "cmd" ? 120 : 0), defaultParallel(2));
    expect(m.parallel).toBe(8);
    expect(m.criticalPath.seconds).toBe(120);
    expect(m.lowerBoundSeconds).toBe(1500);
    expect(m.scheduled).toEqual({ seconds: 13 * 120, peakRunning: 8 });
  });

  it("takes Pulumi's default --parallel: 4 x CPUs", () => {
    expect([1, 2, 4, 16].map(defaultParallel)).toEqual([4, 8, 16, 64]);
    expect(() => scheduled(graph, seconds, 0)).toThrow("parallel must be at least 1, not 0");
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

  it("names N SSH-onboarded Arc servers uniquely, within Azure's machine-name rule, at documentation addresses", () => {
    const servers = arcServers(500);
    expect(servers).toHaveLength(500);
    expect(new Set(servers.map((s) => s.name)).size).toBe(500);
    expect(servers[0]).toEqual({ name: "arc-bench-001", os: "linux", onboard: "ssh", ssh: { host: "192.0.2.1", user: "ubuntu", port: 22 }, users: ["azureuser"] });
    for (const s of servers) expect(s.name).toMatch(/^[a-zA-Z0-9-]{1,54}$/);
  });

  it.each([
    [0, "192.0.2.1"],
    [249, "192.0.2.250"],
    [250, "198.51.100.1"],
    [499, "198.51.100.250"],
    [500, "203.0.113.1"],
    [749, "203.0.113.250"],
  ])("documentation address %i is %s (RFC 5737)", (n, address) => {
    expect(documentationAddress(n)).toBe(address);
  });
  it("has no documentation address past the three ranges", () => {
    expect(() => documentationAddress(750)).toThrow("no documentation address number 750 (0-749)");
  });

  it("gives every server a secure: SSH key and the fleet one service-principal secret", () => {
    const secrets = arcSecretsSection(3) as { servicePrincipalSecret: unknown; sshPrivateKeys: Record<string, unknown> };
    expect(Object.keys(secrets.sshPrivateKeys)).toEqual(["arc-bench-001", "arc-bench-002", "arc-bench-003"]);
    expect(secrets.sshPrivateKeys["arc-bench-002"]).toEqual({ secure: "v1:PLACEHOLDER0bench0ssh0key0arc-bench-002==" });
    expect(secrets.servicePrincipalSecret).toEqual({ secure: "v1:PLACEHOLDER0bench0sp0secret==" });
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
    // Service-principal onboarding named without `method`, which keeps meaning that method.
    expect(config["keyless:arc"].onboarding).toEqual({ servicePrincipalId: "00000000-0000-0000-0000-000000000000" });
    expect(Object.keys(config["keyless:arcSecrets"].sshPrivateKeys)).toHaveLength(10);
    expect(config["keyless:gallery"].sharing.lighthouse.authorizations).toHaveLength(10);
    expect(() => scaleStack("config: {}", { arcServers: 1 })).toThrow("no keyless:storage.containers");
    // The 0-server point of the series: no Arc part at all.
    const none = (parse(scaleStack(base, { arcServers: 0, authorizations: 1 })) as { config: Record<string, unknown> }).config;
    expect(none["keyless:arc"]).toBeUndefined();
    expect(none["keyless:arcSecrets"]).toBeUndefined();
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

describe("replay floor", () => {
  it("turns wire-format inputs back into program values: secrets stay secret, resource references become URNs", async () => {
    const sig = "4dabf18193072939515e22adb298388d";
    const wire = {
      name: "arc-bench-001",
      tags: { owner: "platform" },
      list: [1, "a"],
      key: { [sig]: "1b47061264138c4ac30d75fd1eb44270", value: "offline-plan-placeholder-secret" },
      ref: { [sig]: "5cf8f73096256a8f31e491e813e4eb8e", urn: "urn:pulumi:dev::keyless::t::n" },
    };
    const v = fromWire(wire) as Record<string, unknown>;
    expect(v.name).toBe("arc-bench-001");
    expect(v.tags).toEqual({ owner: "platform" });
    expect(v.list).toEqual([1, "a"]);
    expect(v.ref).toBe("urn:pulumi:dev::keyless::t::n");
    expect(pulumi.Output.isInstance(v.key)).toBe(true);
    expect(await pulumi.isSecret(v.key as pulumi.Output<string>)).toBe(true);
  });

  it.each([
    ["azure-native:storage:BlobContainer", "BlobContainer"],
    ["azure-native:hybridcompute:MachineRunCommand", "MachineRunCommand"],
    ["command:remote:Command", "Command"],
    ["kubernetes:core/v1:Namespace", "Namespace"],
    ["kubernetes:rbac.authorization.k8s.io/v1:Role", "Role"],
    ["pulumi:providers:azure-native", "Provider"],
    ["pulumi:providers:kubernetes", "Provider"],
    ["pulumi:providers:azuread", "Provider"],
    ["azuread:index/application:Application", "Application"],
    ["azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential", "ApplicationFederatedIdentityCredential"],
    ["azure-native:storage:NoSuchType", undefined],
    ["keyless:arc:ArcServer", undefined],
    ["pulumi:providers:unknown", undefined],
  ])("registers %s through its own SDK class (%s)", (type, name) => {
    expect(sdkClassFor(type)?.name).toBe(name);
  });
});

describe("npm run bench on an old Node", () => {
  // The machine's own node, when it is older than 22 (CI images without one skip this).
  const old = ["/usr/bin/node", "/usr/local/bin/node"].find((p) => {
    const v = spawnSync(p, ["--version"], { encoding: "utf8" });
    return v.status === 0 && Number(v.stdout.trim().slice(1).split(".")[0]) < 22;
  });
  it.skipIf(!old)("stops at once with one line saying what to install", () => {
    const r = spawnSync(old as string, ["--require", "./tools/runtime/register.cjs", "tools/bench/cli.ts"], { cwd: root, encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^bench: needs Node\.js 22 or later \(this is v\d+\.\d+\.\d+\); install the version in \.nvmrc \(Node 24 LTS\)\.\n$/);
  });
});
