import { existsSync, readFileSync } from "node:fs";
import { isMap, isPair, isScalar, isSeq, parseDocument } from "yaml";

// What a stack file says that the config map the Pulumi CLI hands a program cannot: which leaves of a
// value are `secure:` (the CLI marks a whole key secret when any leaf is) and where YAML typed a name
// as something else (`true`, `null`, `1` as a map key or as a name; the CLI passes them on as the
// strings "true", "null", "1"). parseConfig uses both when it has them.

export interface StackFileFacts {
  /** Config paths ("keyless:arcSecrets.sshPrivateKeys.arc-lnx-01", "ns:key.list[0]") whose value is `secure:`. */
  readonly secretLeaves: ReadonlySet<string>;
  /**
   * Config paths whose value the file holds in plain text. A leaf in neither set does not come from
   * the file (an imported Pulumi ESC environment's pulumiConfig, pulumi.com/docs/esc/guides/pulumi-iac/),
   * so the file cannot say whether it is secret.
   */
  readonly plainLeaves: ReadonlySet<string>;
  /**
   * `secure:` leaves whose ciphertext is an example (`v1:PLACEHOLDER...`, what the repository's stack
   * files ship): no secrets provider decrypts it, so the leaf must be set before a real deployment.
   */
  readonly exampleSecrets: ReadonlySet<string>;
  /** One message per place YAML typed a name as a boolean, null or number. */
  readonly problems: readonly string[];
}

/** Top-level keyless keys whose value is a name (passed to the program as a raw string). */
const nameKeys = new Set(["keyless:workload", "keyless:environment"]);

function yamlType(v: unknown): string {
  return v === null ? "null" : typeof v === "boolean" ? "boolean" : typeof v === "number" ? "number" : typeof v;
}

function child(path: string, key: string | number): string {
  return typeof key === "number" ? `${path}[${key}]` : `${path}.${key}`;
}

/** Facts of one stack file's text. */
export function stackFileFacts(text: string): StackFileFacts {
  const secretLeaves = new Set<string>();
  const plainLeaves = new Set<string>();
  const exampleSecrets = new Set<string>();
  const problems: string[] = [];
  const doc = parseDocument(text);
  const config = doc.get("config", true);
  if (!isMap(config)) return { secretLeaves, plainLeaves, exampleSecrets, problems };
  const walk = (node: unknown, path: string, ns: string): void => {
    if (isMap(node)) {
      // { secure: ... } is one secret leaf.
      if (node.items.length === 1 && isScalar(node.items[0].key) && node.items[0].key.value === "secure") {
        secretLeaves.add(path);
        const cipher = node.items[0].value;
        if (isScalar(cipher) && typeof cipher.value === "string" && /^v1:PLACEHOLDER/.test(cipher.value)) exampleSecrets.add(path);
        return;
      }
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = isScalar(item.key) ? item.key.value : item.key;
        if (ns === "keyless" && typeof key !== "string") {
          problems.push(`${path}: the key ${String(key)} is a YAML ${yamlType(key)}, not a name; quote it ("${String(key)}") if a name is meant`);
        }
        walk(item.value, child(path, String(key)), ns);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, child(path, i), ns));
    } else if (isScalar(node)) {
      plainLeaves.add(path);
    }
  };
  for (const item of config.items) {
    if (!isPair(item) || !isScalar(item.key)) continue;
    const key = String(item.key.value);
    const ns = key.split(":")[0];
    if (nameKeys.has(key) && isScalar(item.value) && typeof item.value.value !== "string") {
      problems.push(`${key}: ${String(item.value.value)} is a YAML ${yamlType(item.value.value)} where a name is expected; quote it ("${String(item.value.value)}") if it is meant as the name`);
    }
    walk(item.value, key, ns);
  }
  return { secretLeaves, plainLeaves, exampleSecrets, problems };
}

/** Facts of a stack file on disk, or undefined when there is none. */
export function readStackFileFacts(path: string): StackFileFacts | undefined {
  return existsSync(path) ? stackFileFacts(readFileSync(path, "utf8")) : undefined;
}
