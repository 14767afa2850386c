/** A balance read at most once per `maxAgeMs`, however often metrics are collected. */
export type CachedBalance = () => Promise<number | undefined>;

/**
 * The app wallet's balance for the balance gauge, from the chain adapter's account read.
 * A scrape must not become a Horizon request each time (a fleet scraped every 5 s would
 * be one of the wallet's busiest clients), so a reading is kept for `maxAgeMs`, concurrent
 * collections share one request, a read is given up after `timeoutMs`, and a failed read
 * leaves the last known value (a gauge that vanishes on a Horizon hiccup pages people).
 */
export function cachedBalance(
  read: () => Promise<{ balance: string }>,
  options: { maxAgeMs: number; timeoutMs: number; now?: () => number },
): CachedBalance {
  const now = options.now ?? Date.now;
  let value: number | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<void> | undefined;

  const refresh = async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error("timeout")), options.timeoutMs);
          timer.unref();
        }),
      ]);
      const parsed = Number(answer.balance);
      if (Number.isFinite(parsed)) value = parsed;
    } catch {
      // Kept: the last known value (see above). The next collection tries again.
    } finally {
      clearTimeout(timer);
      readAt = now();
      reading = undefined;
    }
  };

  return async () => {
    if (now() - readAt >= options.maxAgeMs) {
      reading ??= refresh();
      await reading;
    }
    return value;
  };
}
