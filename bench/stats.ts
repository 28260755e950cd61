/**
 * The benches' order statistics, one definition for all: the nearest-rank percentile (the
 * smallest value with at least p% of the values at or below it), NaN for no values; the
 * median is its 50th.
 */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);
