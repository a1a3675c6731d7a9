// The modeled `pulumi up` time of a stack from scratch, from the plan's dependency graph and a
// table of typical provision times per resource type (tools/bench/provision-times.ts).
// Pure; table-tested on small synthetic graphs in test/bench.test.ts.
//
// Model: Pulumi starts a resource as soon as everything it waits on is created, and runs
// independent resources in parallel, but at most `--parallel` at once. The default is 4 x the
// deploying machine's CPU count (GOMAXPROCS), or PULUMI_PARALLEL when set: pulumi/pulumi
// pkg/cmd/pulumi/operations/up.go, defaultParallel(), "See https://github.com/pulumi/pulumi/issues/14989
// for context around the cpu * 4 choice". A step holds its slot until the provider's create
// returns. Waiting on a component means waiting on every custom resource inside it; components,
// the stack and providers cost nothing.
//
// So a deploy takes at least the longest chain of waits (the critical path) and at least the total
// work divided by the slots; `scheduled` replays the deploy with that many slots, starting ready
// resources in graph order, which is what the engine's step executor does with a full queue.

/** What the graph needs of each registration (a subset of the plan JSON's resources). */
export interface GraphNode {
  readonly urn: string;
  readonly type: string;
  readonly custom: boolean;
  readonly parent: string;
  /** Everything this resource waits on: explicit dependsOn and the resources its inputs come from. */
  readonly dependencies: readonly string[];
  /** Only the resources its inputs come from (it reads their outputs). */
  readonly propertyDependencies: readonly string[];
}

export interface ChainLink {
  readonly urn: string;
  readonly type: string;
  readonly seconds: number;
}

export interface PathResult {
  /** Total seconds of the longest chain. */
  readonly seconds: number;
  /** The chain, first resource first. */
  readonly chain: ChainLink[];
}

/** Longest chain through the graph, following `edges` of each custom resource. */
export function longestPath(
  nodes: readonly GraphNode[],
  seconds: (type: string) => number,
  edges: (node: GraphNode) => readonly string[],
): PathResult {
  const byUrn = new Map(nodes.map((n) => [n.urn, n]));
  const children = new Map<string, GraphNode[]>();
  for (const n of nodes) if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n]);

  // A component stands for every custom resource inside it, however deep.
  const customsUnder = (urn: string, into: Set<string>): void => {
    const node = byUrn.get(urn);
    if (!node) return;
    if (node.custom) into.add(urn);
    else for (const c of children.get(urn) ?? []) customsUnder(c.urn, into);
  };

  const memo = new Map<string, PathResult>();
  const visiting = new Set<string>();
  const finish = (node: GraphNode): PathResult => {
    const done = memo.get(node.urn);
    if (done) return done;
    if (visiting.has(node.urn)) throw new Error(`dependency cycle through ${node.urn}`);
    visiting.add(node.urn);
    const waitsOn = new Set<string>();
    for (const d of edges(node)) customsUnder(d, waitsOn);
    waitsOn.delete(node.urn);
    let before: PathResult = { seconds: 0, chain: [] };
    for (const urn of [...waitsOn].sort()) {
      const r = finish(byUrn.get(urn) as GraphNode);
      if (r.seconds > before.seconds) before = r;
    }
    const own = node.type.startsWith("pulumi:providers:") ? 0 : seconds(node.type);
    const result = { seconds: before.seconds + own, chain: [...before.chain, { urn: node.urn, type: node.type, seconds: own }] };
    visiting.delete(node.urn);
    memo.set(node.urn, result);
    return result;
  };

  let best: PathResult = { seconds: 0, chain: [] };
  for (const n of [...nodes].sort((a, b) => (a.urn < b.urn ? -1 : 1))) {
    if (!n.custom) continue;
    const r = finish(n);
    if (r.seconds > best.seconds) best = r;
  }
  return best;
}

/** Pulumi's default `--parallel` on a machine with `cpus` CPUs (pkg/cmd/pulumi/operations/up.go). */
export function defaultParallel(cpus: number): number {
  return Math.max(1, Math.floor(cpus)) * 4;
}

/** Every custom resource's waits, components expanded to the custom resources inside them. */
function customWaits(nodes: readonly GraphNode[]): Map<string, Set<string>> {
  const byUrn = new Map(nodes.map((n) => [n.urn, n]));
  const children = new Map<string, GraphNode[]>();
  for (const n of nodes) if (n.parent) children.set(n.parent, [...(children.get(n.parent) ?? []), n]);
  const under = new Map<string, string[]>();
  const customsUnder = (urn: string): string[] => {
    const known = under.get(urn);
    if (known) return known;
    const node = byUrn.get(urn);
    const out = !node ? [] : node.custom ? [urn] : (children.get(urn) ?? []).flatMap((c) => customsUnder(c.urn));
    under.set(urn, out);
    return out;
  };
  const waits = new Map<string, Set<string>>();
  for (const n of nodes) {
    if (!n.custom) continue;
    const w = new Set<string>();
    for (const d of n.dependencies) for (const c of customsUnder(d)) if (c !== n.urn) w.add(c);
    waits.set(n.urn, w);
  }
  return waits;
}

export interface Schedule {
  /** Seconds from the first create to the last, with `parallel` slots. */
  readonly seconds: number;
  /** Most resources creating at once. */
  readonly peakRunning: number;
}

/**
 * Replays a deploy with `parallel` slots: a resource starts when everything it waits on is created
 * and a slot is free; among ready resources the one first in graph order goes first.
 */
export function scheduled(nodes: readonly GraphNode[], seconds: (type: string) => number, parallel: number): Schedule {
  if (!(parallel >= 1)) throw new Error(`parallel must be at least 1, not ${parallel}`);
  const waits = customWaits(nodes);
  const order = [...waits.keys()];
  const index = new Map(order.map((u, i) => [u, i]));
  const typeOf = new Map(nodes.map((n) => [n.urn, n.type]));
  const cost = (urn: string) => {
    const type = typeOf.get(urn) as string;
    return type.startsWith("pulumi:providers:") ? 0 : seconds(type);
  };
  const pending = new Map(order.map((u) => [u, waits.get(u)?.size ?? 0]));
  const dependents = new Map<string, string[]>();
  for (const [u, w] of waits) for (const d of w) dependents.set(d, [...(dependents.get(d) ?? []), u]);
  const ready: number[] = order.filter((u) => pending.get(u) === 0).map((u) => index.get(u) as number);
  const running: Array<{ end: number; urn: string }> = [];
  let now = 0;
  let done = 0;
  let peak = 0;
  while (done < order.length) {
    ready.sort((a, b) => a - b);
    while (running.length < parallel && ready.length > 0) {
      const urn = order[ready.shift() as number];
      running.push({ end: now + cost(urn), urn });
    }
    peak = Math.max(peak, running.length);
    if (running.length === 0) throw new Error("dependency cycle: resources wait on each other");
    now = Math.min(...running.map((r) => r.end));
    for (let i = running.length - 1; i >= 0; i--) {
      if (running[i].end !== now) continue;
      const [finished] = running.splice(i, 1);
      done++;
      for (const d of dependents.get(finished.urn) ?? []) {
        const left = (pending.get(d) as number) - 1;
        pending.set(d, left);
        if (left === 0) ready.push(index.get(d) as number);
      }
    }
  }
  return { seconds: now, peakRunning: peak };
}

export interface DeployModel {
  /** The longest chain of waits: the deploy time with unlimited slots. */
  readonly criticalPath: PathResult;
  /** Sum of every resource's provision time. */
  readonly workSeconds: number;
  readonly parallel: number;
  /** max(critical path, work / parallel): no schedule with `parallel` slots is faster. */
  readonly lowerBoundSeconds: number;
  /** The replayed deploy with `parallel` slots (within 2x of the lower bound by Graham's bound). */
  readonly scheduled: Schedule;
}

/** The modeled deploy of one stack with `parallel` slots. */
export function deployModel(nodes: readonly GraphNode[], seconds: (type: string) => number, parallel: number): DeployModel {
  const criticalPath = longestPath(nodes, seconds, (n) => n.dependencies);
  let workSeconds = 0;
  for (const n of nodes) if (n.custom && !n.type.startsWith("pulumi:providers:")) workSeconds += seconds(n.type);
  const lowerBoundSeconds = Math.max(criticalPath.seconds, workSeconds / parallel);
  return { criticalPath, workSeconds, parallel, lowerBoundSeconds, scheduled: scheduled(nodes, seconds, parallel) };
}
