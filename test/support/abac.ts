// A small evaluator for the subset of Azure's role assignment condition language (version 2.0) that
// keyless sends: parentheses, !, NOT, AND, OR, ActionMatches{'...'}, SubOperationMatches{'...'} and
// @Resource[...] / @Request[...] attributes compared with StringEquals, StringNotEquals,
// StringStartsWith, StringNotStartsWith or StringLike against a single-quoted string. Written from
// azure-docs role-based-access-control/conditions-format.md (operators, precedence: NOT before AND
// before OR; string comparisons are case-sensitive; an action that matches no ActionMatches makes
// the "!(ActionMatches...)" side true, so the condition does not apply to it). Anything else is a
// parse error, so a condition using more than this evaluator knows cannot pass by accident.
// It is a model of Azure's evaluation, table-tested against Microsoft's own examples; it is not Azure.

/** One data-plane request as Azure Storage authorizes it. */
export interface AbacRequest {
  /** Data action, e.g. Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write. */
  readonly action: string;
  /** Suboperation, e.g. Blob.List for List blobs. */
  readonly subOperation?: string;
  /** @Resource attributes, by full name (…/containers:name, …/blobs:path). */
  readonly resource?: Readonly<Record<string, string>>;
  /** @Request attributes, by full name (…/blobs:prefix). */
  readonly request?: Readonly<Record<string, string>>;
}

type Node =
  | { kind: "and" | "or"; left: Node; right: Node }
  | { kind: "not"; operand: Node }
  | { kind: "action" | "subop"; value: string }
  | { kind: "compare"; source: "Resource" | "Request"; attribute: string; op: string; value: string };

const operators = new Set(["StringEquals", "StringNotEquals", "StringStartsWith", "StringNotStartsWith", "StringLike"]);

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /\s+|(\()|(\))|(!)|(ActionMatches\{'[^']*'\})|(SubOperationMatches\{'[^']*'\})|(@(?:Resource|Request)\[[^\]]+\])|('[^']*')|([A-Za-z]+)/y;
  let i = 0;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new Error(`condition: cannot read ${JSON.stringify(text.slice(i, i + 30))}`);
    if (m[0].trim() !== "") tokens.push(m[0]);
    i = re.lastIndex;
  }
  return tokens;
}

export function parseCondition(text: string): Node {
  const t = tokenize(text);
  let pos = 0;
  const peek = () => t[pos];
  const take = (expected?: string) => {
    const tok = t[pos++];
    if (tok === undefined || (expected !== undefined && tok !== expected)) throw new Error(`condition: expected ${expected ?? "a token"}, found ${tok ?? "the end"}`);
    return tok;
  };
  const or = (): Node => {
    let left = and();
    while (peek() === "OR") {
      take();
      left = { kind: "or", left, right: and() };
    }
    return left;
  };
  const and = (): Node => {
    let left = unary();
    while (peek() === "AND") {
      take();
      left = { kind: "and", left, right: unary() };
    }
    return left;
  };
  const unary = (): Node => {
    if (peek() === "!" || peek() === "NOT") {
      take();
      return { kind: "not", operand: unary() };
    }
    return primary();
  };
  const primary = (): Node => {
    const tok = take();
    if (tok === "(") {
      const inner = or();
      take(")");
      return inner;
    }
    let m = /^ActionMatches\{'(.*)'\}$/.exec(tok);
    if (m) return { kind: "action", value: m[1] };
    m = /^SubOperationMatches\{'(.*)'\}$/.exec(tok);
    if (m) return { kind: "subop", value: m[1] };
    m = /^@(Resource|Request)\[(.+)\]$/.exec(tok);
    if (m) {
      const op = take();
      if (!operators.has(op)) throw new Error(`condition: operator ${op} is not in the evaluated subset`);
      const value = take();
      if (!/^'.*'$/.test(value)) throw new Error(`condition: expected a quoted string after ${op}, found ${value}`);
      return { kind: "compare", source: m[1] as "Resource" | "Request", attribute: m[2], op, value: value.slice(1, -1) };
    }
    throw new Error(`condition: unexpected ${tok}`);
  };
  const tree = or();
  if (pos !== t.length) throw new Error(`condition: unexpected ${t[pos]} after the expression`);
  return tree;
}

function like(pattern: string, s: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return re.test(s);
}

function evaluate(n: Node, r: AbacRequest): boolean {
  switch (n.kind) {
    case "and":
      return evaluate(n.left, r) && evaluate(n.right, r);
    case "or":
      return evaluate(n.left, r) || evaluate(n.right, r);
    case "not":
      return !evaluate(n.operand, r);
    case "action":
      return like(n.value, r.action);
    case "subop":
      return r.subOperation === n.value;
    case "compare": {
      const v = (n.source === "Resource" ? r.resource : r.request)?.[n.attribute];
      // An attribute the request does not carry satisfies no comparison.
      if (v === undefined) return false;
      switch (n.op) {
        case "StringEquals":
          return v === n.value;
        case "StringNotEquals":
          return v !== n.value;
        case "StringStartsWith":
          return v.startsWith(n.value);
        case "StringNotStartsWith":
          return !v.startsWith(n.value);
        default:
          return like(n.value, v);
      }
    }
  }
}

/** Whether a role assignment with this condition allows the request (given the role has the action). */
export function conditionAllows(condition: string, request: AbacRequest): boolean {
  return evaluate(parseCondition(condition), request);
}
