// The modeled `pulumi up` time of a stack from scratch, from the plan's dependency graph and a
// table of typical provision times per resource type (tools/bench/provision-times.ts).
// Pure; unit-tested on small synthetic graphs in test/bench.test.ts.
//
// Model: Pulumi starts a resource as soon as everything it waits on is created, and runs
// independent resources in parallel (`--parallel` defaults to 4 x CPU count: pulumi/pulumi
// pkg/cmd/pulumi/operations/up.go, defaultParallel; the model ignores that cap, which only matters
// when more resources are ready at once than the deploying machine allows). So the deploy takes as long as the
// longest chain of waits, each link costing its resource's provision time. Waiting on a component
// means waiting on every custom resource inside it; components, the stack and providers cost nothing.

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

/** Component types whose custom resources are real prerequisites even when only dependsOn points at them. */
export const prerequisiteComponents: ReadonlySet<string> = new Set([
  // Azure refuses to create a resource whose resource provider namespace is not registered in the
  // subscription (MissingSubscriptionRegistration), so waiting on the registration is unavoidable.
  "keyless:platform:ProviderRegistrations",
]);

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

export interface CriticalPath {
  /** Every recorded wait: what `pulumi up` of this program would do. */
  readonly modeled: PathResult;
  /** Only waits that cannot be avoided: inputs read from another resource, and prerequisites (provider registrations). */
  readonly lowerBound: PathResult;
  /** (modeled - lowerBound) / lowerBound. */
  readonly excess: number;
}

/** The modeled deploy time next to the same model's lower bound. */
export function criticalPath(nodes: readonly GraphNode[], seconds: (type: string) => number): CriticalPath {
  const byUrn = new Map(nodes.map((n) => [n.urn, n]));
  const isPrerequisite = (urn: string): boolean => {
    for (let n = byUrn.get(urn); n; n = byUrn.get(n.parent)) if (prerequisiteComponents.has(n.type)) return true;
    return false;
  };
  const modeled = longestPath(nodes, seconds, (n) => n.dependencies);
  const lowerBound = longestPath(nodes, seconds, (n) => [...n.propertyDependencies, ...n.dependencies.filter(isPrerequisite)]);
  const excess = lowerBound.seconds === 0 ? 0 : (modeled.seconds - lowerBound.seconds) / lowerBound.seconds;
  return { modeled, lowerBound, excess };
}
