import type { PayoutStore, StoredPayout } from "../storage/types.js";
import type { Driver } from "./driver.js";
import type { LeaseClaims } from "./lease-claims.js";
import { type Payout, toPayout } from "./payout-view.js";

/** Payouts taken up at once: ten thousand claims together would swamp the store. */
const BATCH = 32;

/**
 * Drives every unfinished payout on from its stored snapshot (taking over first the leases
 * of runners of this host that provably died); with `wait`, resolves once each rests.
 */
export async function resumeAll(
  deps: { store: PayoutStore; claims: LeaseClaims; driver: Driver },
  { wait = true }: { wait?: boolean } = {},
): Promise<Payout[]> {
  const { store, claims, driver } = deps;
  await claims.sweepGone();
  const unfinished: StoredPayout[] = [];
  for (let page = await store.list({ atRest: false, limit: 500 }); page.length > 0; ) {
    unfinished.push(...page);
    page = await store.list({ atRest: false, limit: 500, afterKey: page[page.length - 1]!.key });
  }
  const resting: Array<Promise<StoredPayout>> = [];
  for (let i = 0; i < unfinished.length; i += BATCH) {
    await Promise.all(
      unfinished.slice(i, i + BATCH).map(
        ({ key }) =>
          new Promise<void>((takenUp) => {
            const atRest = driver.untilAtRest(key, { onTakenUp: takenUp });
            resting.push(atRest);
            atRest.then(
              () => takenUp(),
              () => takenUp(),
            );
          }),
      ),
    );
  }
  if (!wait) {
    for (const promise of resting) promise.catch(() => undefined);
    return unfinished.map(toPayout);
  }
  return (await Promise.all(resting)).map(toPayout);
}
