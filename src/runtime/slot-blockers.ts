import type { PayoutStore, StoredPayout } from "../storage/types.js";
import { type Payout, toPayout } from "./payout-view.js";

/**
 * The public views of `records`, each payout waiting for Pi's one-incomplete-payment slot
 * naming the payout that holds it, with its state and its failure: a queue that does not
 * move must say why. One slot read per scope and one read per holder, whatever the count.
 */
export async function withBlockers(
  store: PayoutStore,
  records: readonly StoredPayout[],
): Promise<Payout[]> {
  const waiting = records.filter((r) => r.stateDetail === "created.queued");
  const holders = new Map<string, StoredPayout | undefined>();
  for (const scope of new Set(waiting.map((r) => r.snapshot.context.slotScope))) {
    const key = await store.slotHolder(scope);
    holders.set(scope, key === undefined ? undefined : await store.get(key));
  }
  return records.map((record) => {
    const payout = toPayout(record);
    const holder = holders.get(record.snapshot.context.slotScope);
    if (record.stateDetail !== "created.queued" || !holder || holder.key === record.key)
      return payout;
    return {
      ...payout,
      blockedBy: {
        key: holder.key,
        state: holder.state,
        stateDetail: holder.stateDetail,
        failure: holder.snapshot.context.failure,
      },
    };
  });
}
