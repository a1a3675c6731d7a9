// Values a user must replace before deploying. Example stack files use recognisable placeholders,
// the same everywhere, so they can be found by value alone:
//   - GUIDs of one repeated hex digit (11111111-1111-4111-8111-111111111111, 00000000-0000-0000-0000-000000000000);
//   - IPv4 addresses in the documentation ranges 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 (RFC 5737);
//   - host names under example.com, example.org, example.net or the .example top-level domain (RFC 2606);
//   - SSH public keys whose comment is `keyless-example`;
//   - anything written <like-this>.
// The offline plan and `pulumi preview` list each one as a warning; `pulumi up` refuses to start
// (lib/config/index.ts, loadConfig), so a template is never half-deployed.

/** One placeholder found in the config. */
export interface Placeholder {
  /** Full key path, e.g. keyless:gallery.sharing.lighthouse.managedByTenantId. */
  readonly key: string;
  /** The placeholder value as written. */
  readonly value: string;
  /** What to put there instead. */
  readonly hint: string;
}

type Kind = "guid" | "ip" | "host" | "sshKey" | "marker";

const guid = /\b([0-9a-f])\1{7}-\1{4}-[0-9a-f]\1{3}-[0-9a-f]\1{3}-\1{12}\b/i;
const docIp = /(?<![\d.])(?:192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}(?![\d.]*\d)/;
const exampleHost = /(?:^|[^A-Za-z0-9-])(?:[A-Za-z0-9-]+\.)*(?:example\.(?:com|org|net)|[A-Za-z0-9-]+\.example)(?![A-Za-z0-9.-]*[A-Za-z0-9])/i;
const sshKey = /^(?:ssh-|ecdsa-)\S+\s+\S+\s+keyless-example\s*$/;
const marker = /<[A-Za-z][\w .-]*>/;

/** Which kind of placeholder a string is or contains, if any (pure; table-tested). */
export function placeholderKind(value: string): Kind | undefined {
  if (sshKey.test(value)) return "sshKey";
  if (guid.test(value)) return "guid";
  if (docIp.test(value)) return "ip";
  if (exampleHost.test(value)) return "host";
  if (marker.test(value)) return "marker";
  return undefined;
}

// What belongs in a key, by its last name; the kind's generic hint otherwise.
const byKey: Readonly<Record<string, string>> = {
  tenantId: "your tenant id (az account show --query tenantId -o tsv)",
  subscriptionId: "your subscription id (az account show --query id -o tsv)",
  managedByTenantId: "the managing tenant's id (az account show --query tenantId -o tsv, signed in to that tenant)",
  principalId: "the object id of the user, group or service principal (az ad group show --group NAME --query id -o tsv; for an app, az ad sp show --id APP_ID --query id -o tsv)",
  servicePrincipalId: "the application (client) id of your onboarding service principal (az ad sp list --display-name NAME --query [].appId -o tsv)",
  adminGroupObjectIds: "the object id of an Entra group (az ad group show --group NAME --query id -o tsv)",
  sshPublicKey: "your own SSH public key (the contents of ~/.ssh/id_ed25519.pub)",
  host: "the address or DNS name this machine reaches the server at over SSH",
  apiServerAuthorizedIpRanges: "your own public address range in CIDR form",
  sourceImageId: "the resource id of your managed image or VM (az image show -g GROUP -n NAME --query id -o tsv)",
  subject: "the federated credential subject of your own repository, e.g. repo:OWNER/REPO:environment:NAME",
};

const byKind: Readonly<Record<Kind, string>> = {
  guid: "the real id from your directory or subscription",
  ip: "the real address",
  host: "the real host name",
  sshKey: "your own SSH public key (the contents of ~/.ssh/id_ed25519.pub)",
  marker: "the real value",
};

function lastName(path: readonly (string | number)[]): string {
  for (let i = path.length - 1; i >= 0; i--) if (typeof path[i] === "string") return path[i] as string;
  return "";
}

function keyOf(ns: string, path: readonly (string | number)[]): string {
  let out = ns;
  path.forEach((p, i) => (out += typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`));
  return out;
}

function walk(ns: string, value: unknown, path: (string | number)[], out: Placeholder[]): void {
  if (typeof value === "string") {
    const kind = placeholderKind(value);
    if (kind) out.push({ key: keyOf(ns, path), value, hint: byKey[lastName(path)] ?? byKind[kind] });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => walk(ns, v, [...path, i], out));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) walk(ns, v, [...path, k], out);
  }
}

/**
 * Every placeholder in a stack's config, in key order. `values` is the raw config map ("ns:key" ->
 * string, objects as JSON). Secret keys are never read: their values must not reach a message.
 */
export function findPlaceholders(values: Readonly<Record<string, string>>, secretKeys: ReadonlySet<string> = new Set()): Placeholder[] {
  const out: Placeholder[] = [];
  for (const fullKey of Object.keys(values).sort()) {
    if (secretKeys.has(fullKey)) continue;
    const [ns, ...rest] = fullKey.split(":");
    if (ns !== "keyless" && ns !== "azure-native") continue;
    let decoded: unknown = values[fullKey];
    try {
      decoded = JSON.parse(values[fullKey]);
    } catch {
      // a plain string
    }
    walk(`${ns}:`, decoded, [rest.join(":")], out);
  }
  return out;
}

/** One line per placeholder: the key, the value and what to put there. */
export function placeholderMessage(p: Placeholder): string {
  // A long value (an SSH key) keeps its start and its end, where the placeholder comment is.
  const shown = p.value.length > 80 ? `${p.value.slice(0, 30)}...${p.value.slice(-30)}` : p.value;
  return `${p.key}: ${JSON.stringify(shown)} is a placeholder; replace it with ${p.hint}`;
}
