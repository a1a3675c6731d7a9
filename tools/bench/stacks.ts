import { parse, stringify } from "yaml";

// Generated stack files for the fleet-scale rows of the benchmark: the dev stack plus N Arc
// servers (keyless:arc, issue 3's contract) or N Lighthouse authorizations (keyless:gallery,
// issue 5's contract). Servers are `onboard: existing`, so no secret is needed. Pure; the
// benchmark writes the text to a temp directory. Unit-tested in test/bench.test.ts.

/** Deterministic GUID-shaped id for the n-th generated principal (no randomness: same plan every run). */
export function syntheticGuid(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

/** `count` Arc servers: arc-bench-001, ... (Arc machine names: 1-54 letters, digits, hyphens). */
export function arcServers(count: number): Array<Record<string, unknown>> {
  const width = String(count).length < 3 ? 3 : String(count).length;
  return Array.from({ length: count }, (_, i) => ({
    name: `arc-bench-${String(i + 1).padStart(width, "0")}`,
    os: "linux",
    onboard: "existing",
    // An adopted server names the group it was onboarded into (the stack never deletes it).
    resourceGroup: "rg-arc-onboarded",
  }));
}

/** keyless:arc for `count` adopted servers, granted the first container and the vault. */
export function arcSection(count: number, container: string): Record<string, unknown> {
  return { servers: arcServers(count), grants: { blobContainers: [container], keyVault: "secrets-user" } };
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
  if (options.arcServers !== undefined) {
    const containers = ((config["keyless:storage"] as { containers?: string[] } | undefined)?.containers ?? []) as string[];
    if (containers.length === 0) throw new Error("the base stack has no keyless:storage.containers to grant the Arc servers");
    config["keyless:arc"] = arcSection(options.arcServers, containers[0]);
  }
  if (options.authorizations !== undefined) config["keyless:gallery"] = gallerySection(options.authorizations);
  return stringify({ ...doc, config });
}
