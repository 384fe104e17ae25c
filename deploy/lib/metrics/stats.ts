/**
 * Percentiles by linear interpolation between closest ranks (PERCENTILE_CONT in SQL, type 7 in R,
 * numpy's default), the same estimator the DORA Four Keys dashboard uses for its medians.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * p;
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lo = sorted[low] as number;
  const hi = sorted[high] as number;
  return lo + (hi - lo) * (rank - low);
}

export const median = (values: readonly number[]): number | null => percentile(values, 0.5);
