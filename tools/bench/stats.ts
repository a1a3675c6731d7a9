// Pure helpers of the benchmark (unit-tested in test/bench.test.ts).

/** Median of the samples (mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("median of no samples");
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One point of the fleet-scale series: N servers, the program's wall time, what it registered. */
export interface ScalePoint {
  readonly servers: number;
  readonly wallMs: number;
}

export interface Linearity {
  /** Marginal time per server between the two smallest runs (ms): fixed start-up cost cancels out. */
  readonly perServerMs: number;
  /** What the largest run would take if every server cost perServerMs: t(small) + (N - n) * perServerMs. */
  readonly predictedMs: number;
  readonly actualMs: number;
  /** actual / predicted. */
  readonly ratio: number;
  /** ratio <= tolerance. */
  readonly pass: boolean;
}

/**
 * The check, "the 500-server time within 1.2x of 50x the 10-server per-server cost", made
 * precise: a fixed start-up cost (the SDK, ~1 s) dwarfs 10 servers, so "per-server cost" is the
 * marginal cost measured between the two smallest runs (10 -> 100 servers), and the largest run
 * must take at most `tolerance` times the linear prediction from the smallest one. Superlinear
 * growth (quadratic lookups, O(n^2) dependency walks) fails it; start-up cost does not.
 */
export function linearity(points: readonly ScalePoint[], tolerance = 1.2): Linearity {
  if (points.length < 3) throw new Error("linearity needs at least three fleet sizes");
  const [a, b] = [...points].sort((x, y) => x.servers - y.servers);
  const last = [...points].sort((x, y) => x.servers - y.servers)[points.length - 1];
  const perServerMs = Math.max((b.wallMs - a.wallMs) / (b.servers - a.servers), 0);
  const predictedMs = a.wallMs + (last.servers - a.servers) * perServerMs;
  const ratio = last.wallMs / predictedMs;
  return { perServerMs, predictedMs, actualMs: last.wallMs, ratio, pass: ratio <= tolerance };
}

/**
 * The config section a build does not know, from the program's config error: a stack generated
 * for a part that is not merged yet (its root key is rejected as unknown) reports "n/a", not a
 * failure. Undefined for any other error.
 */
export function unknownSection(error: string): string | undefined {
  return /^\s*keyless:(\w+): .* is not a known key$/m.exec(error)?.[1];
}
