// Pure helpers of the benchmark (table-tested in test/bench.test.ts): summaries, paired ratios,
// a noise-robust line fit and the growth exponent of the fleet series.

/** Median of the samples (mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) throw new Error("median of no samples");
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Median, min and max of one series. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function summarize(samples: readonly number[]): Summary {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), n: samples.length };
}

/**
 * Ratios of interleaved pairs: subject[i] / floor[i], each pair taken back to back (A, B, A, B, ...)
 * so that drift in the machine's load lands on both sides of a ratio, not on one row.
 */
export function pairedRatios(subject: readonly number[], floor: readonly number[]): number[] {
  if (subject.length !== floor.length) throw new Error(`pairs need as many subject samples as floor samples (${subject.length} vs ${floor.length})`);
  if (subject.length === 0) throw new Error("no pairs");
  return subject.map((s, i) => {
    if (!(floor[i] > 0)) throw new Error(`floor sample ${i} is ${floor[i]}: a ratio needs a positive floor`);
    return s / floor[i];
  });
}

/**
 * The order of one round over `sides` sides (indexes 0..sides-1): a rotation that puts a
 * different side first each round, so over `sides` rounds each side runs first, last and in
 * between equally often. Two sides alternate: A, B, then B, A.
 */
export function roundOrder(round: number, sides: number): number[] {
  if (!Number.isInteger(sides) || sides < 1) throw new Error(`a round needs a whole number of sides >= 1, not ${sides}`);
  return Array.from({ length: sides }, (_, i) => (i + round) % sides);
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface LineFit {
  /** Median of the pairwise slopes (Theil-Sen): an outlier sample moves it little. */
  readonly slope: number;
  /** Median of y - slope * x. */
  readonly intercept: number;
}

/** Theil-Sen line through the points (pairs with equal x are skipped). */
export function theilSen(points: readonly Point[]): LineFit {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++)
    for (let j = i + 1; j < points.length; j++) if (points[j].x !== points[i].x) slopes.push((points[j].y - points[i].y) / (points[j].x - points[i].x));
  if (slopes.length === 0) throw new Error("a line fit needs points at two or more x values");
  const slope = median(slopes);
  return { slope, intercept: median(points.map((p) => p.y - slope * p.x)) };
}

export interface Growth {
  /** Theil-Sen slope of wall time over fleet size: milliseconds each added item costs. */
  readonly msPerItem: number;
  /** Theil-Sen intercept: the fixed cost at size 0 as the fit sees it (ms). */
  readonly fixedMs: number;
  /**
   * k in (t(n) - t(0)) ~ n^k, the Theil-Sen slope on log-log axes of the time above the size-0
   * run: 1 is linear growth, 2 quadratic. The size-0 run is measured, so the fixed start-up cost
   * (the SDK, the rest of the stack) does not bend the exponent below 1.
   */
  readonly exponent: number;
  /** exponent <= limit. */
  readonly linear: boolean;
}

/**
 * Growth of wall time with fleet size, from every sample (x = size, y = ms). Needs size 0 and at
 * least two other sizes. `limit` is the largest exponent still called linear (noise on a shared
 * machine moves it by a few hundredths).
 */
export function growth(samples: readonly Point[], limit = 1.15): Growth {
  const zero = samples.filter((p) => p.x === 0).map((p) => p.y);
  const sizes = [...new Set(samples.filter((p) => p.x > 0).map((p) => p.x))].sort((a, b) => a - b);
  if (zero.length === 0 || sizes.length < 2) throw new Error("growth needs size 0 and at least two other sizes");
  const line = theilSen(samples);
  const base = median(zero);
  const logPoints: Point[] = [];
  for (const n of sizes) {
    const above = median(samples.filter((p) => p.x === n).map((p) => p.y)) - base;
    if (above > 0) logPoints.push({ x: Math.log(n), y: Math.log(above) });
  }
  const exponent = logPoints.length >= 2 ? theilSen(logPoints).slope : Number.NaN;
  return { msPerItem: line.slope, fixedMs: line.intercept, exponent, linear: exponent <= limit };
}

/**
 * The config section a build does not know, from the program's config error: a stack generated
 * for a part that is not in this build (its root key is rejected as unknown) reports "n/a", not a
 * failure. Undefined for any other error.
 */
export function unknownSection(error: string): string | undefined {
  return /^\s*keyless:(\w+): .* is not a known key$/m.exec(error)?.[1];
}
