import { parse, stringify } from "yaml";

// Generated stack files for the fleet-scale rows of the benchmark: the dev stack plus N Arc
// servers this stack onboards over SSH (the expensive case: the onboarding command with its secrets,
// the machine lookup, the grants and the verification per server) and N Lighthouse authorizations.
// Pure; the benchmark writes the text to a temp directory. Table-tested in test/bench.test.ts.
// Every value a user would replace is a recognisable placeholder: documentation IPv4 ranges
// (RFC 5737), the all-zero GUID, `secure:` values the offline plan never decrypts.

/** Deterministic GUID-shaped id for the n-th generated principal (no randomness: same plan every run). */
export function syntheticGuid(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

/** The n-th (0-based) documentation address: 192.0.2.1-250, then 198.51.100.1-250, then 203.0.113.1-250 (RFC 5737). */
export function documentationAddress(n: number): string {
  const nets = ["192.0.2", "198.51.100", "203.0.113"];
  if (!Number.isInteger(n) || n < 0 || n >= nets.length * 250) throw new Error(`no documentation address number ${n} (0-${nets.length * 250 - 1})`);
  return `${nets[Math.floor(n / 250)]}.${(n % 250) + 1}`;
}

/** `count` Linux Arc servers onboarded over SSH: arc-bench-001, ... (Arc machine names: 1-54 letters, digits, hyphens). */
export function arcServers(count: number): Array<Record<string, unknown>> {
  const width = String(count).length < 3 ? 3 : String(count).length;
  return Array.from({ length: count }, (_, i) => ({
    name: `arc-bench-${String(i + 1).padStart(width, "0")}`,
    os: "linux",
    onboard: "ssh",
    ssh: { host: documentationAddress(i), user: "ubuntu", port: 22 },
    users: ["azureuser"],
  }));
}

/**
 * keyless:arc for `count` SSH-onboarded servers, granted the first container and the vault. The
 * onboarding names a service principal without `method`, which keeps meaning the service-principal
 * method, so the stack stays valid whichever onboarding default the build has.
 */
export function arcSection(count: number, container: string): Record<string, unknown> {
  return {
    servers: arcServers(count),
    onboarding: { servicePrincipalId: "00000000-0000-0000-0000-000000000000" },
    grants: { blobContainers: [container], keyVault: "secrets-user" },
  };
}

/** keyless:arcSecrets for those servers: `secure:` placeholders (the offline plan never decrypts them). */
export function arcSecretsSection(count: number): Record<string, unknown> {
  const secure = (what: string) => ({ secure: `v1:PLACEHOLDER0bench0${what}==` });
  return {
    servicePrincipalSecret: secure("sp0secret"),
    sshPrivateKeys: Object.fromEntries(arcServers(count).map((s) => [s.name as string, secure(`ssh0key0${s.name as string}`)])),
  };
}

/** keyless:gallery with one image and a Lighthouse offer of `count` Reader authorizations. */
export function gallerySection(count: number): Record<string, unknown> {
  return {
    images: [{ name: "ubuntu-golden", osType: "Linux", hyperVGeneration: "V2", publisher: "contoso", offer: "golden", sku: "ubuntu-24_04" }],
    sharing: {
      lighthouse: {
        offerName: "Benchmark offer",
        managedByTenantId: "11111111-1111-4111-8111-111111111111",
        authorizations: Array.from({ length: count }, (_, i) => ({
          principalId: syntheticGuid(i + 1),
          principalIdDisplayName: `Benchmark principal ${i + 1}`,
          role: "Reader",
        })),
      },
    },
  };
}

export interface ScaleOptions {
  readonly arcServers?: number;
  readonly authorizations?: number;
  /** Blob containers added to keyless:storage (a series that exists in every build: the foundation's). */
  readonly containers?: number;
}

/** `count` container names: bench-001, ... (3-63 lowercase letters, digits, single hyphens). */
export function containerNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `bench-${String(i + 1).padStart(3, "0")}`);
}

/** A stack file: the base stack file's text with the generated sections set (others kept as they are). */
export function scaleStack(baseYaml: string, options: ScaleOptions): string {
  const doc = (parse(baseYaml) ?? {}) as { config?: Record<string, unknown> };
  const config = { ...(doc.config ?? {}) };
  if (options.containers !== undefined) {
    const storage = (config["keyless:storage"] ?? {}) as { containers?: string[] };
    config["keyless:storage"] = { ...storage, containers: [...(storage.containers ?? []), ...containerNames(options.containers)] };
  }
  if (options.arcServers) {
    const containers = ((config["keyless:storage"] as { containers?: string[] } | undefined)?.containers ?? []) as string[];
    if (containers.length === 0) throw new Error("the base stack has no keyless:storage.containers to grant the Arc servers");
    config["keyless:arc"] = arcSection(options.arcServers, containers[0]);
    config["keyless:arcSecrets"] = arcSecretsSection(options.arcServers);
  }
  if (options.authorizations !== undefined) config["keyless:gallery"] = gallerySection(options.authorizations);
  return stringify({ ...doc, config });
}
