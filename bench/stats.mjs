// Figures over repeated runs, shared by the cases and the report.

/** The middle value (the upper middle of an even count); the input is left as it is. */
export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * The median and a 95% interval for it, without assuming how the values spread: the
 * interval runs between the order statistics whose ranks a fair coin's count over
 * `values.length` tosses lands within 95% of the time (the sign-test interval, with the
 * normal approximation of the binomial, fair from about ten values on). Case 3's round-by-round
 * ratios swing by ±0.04 between runs of 45 rounds on a shared machine: a goal near the
 * median is then neither met nor missed, and the report says so instead of a coin's verdict.
 */
export function medianInterval(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const reach = (1.96 * Math.sqrt(n)) / 2;
  const low = Math.max(0, Math.floor(n / 2 - reach));
  const high = Math.min(n - 1, Math.ceil(n / 2 + reach) - 1);
  return { median: sorted[Math.floor(n / 2)], low: sorted[low], high: sorted[high] };
}
