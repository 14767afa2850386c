import { afterEach } from "vitest";
import { parseAmount } from "../domain/amount.js";
import type { PersistedPayoutSnapshot } from "../machines/step.js";
import type { JournalInput, PayoutStore, PayoutWrite } from "../storage/types.js";

/** A store made for one test, on a clock the test moves. */
export type StoreFactory = (now: () => number) => Promise<PayoutStore>;

/** What a store can do for the suite beyond the port, to set up states the port cannot reach. */
export interface PayoutStoreContractOptions {
  /**
   * Writes a slot row directly, bypassing `acquireSlot`'s checks, as data written before
   * `holdsSlot` existed may hold one (a holder that is no payout). Without it, the test of
   * such a slot is skipped: a store that never held such data needs none.
   */
  seedSlot?: (store: PayoutStore, scope: string, key: string) => Promise<void>;
}

/** An intent whose metadata tests JSON's edges (non-ASCII text, a number too big for a double). */
export const intent = {
  uid: "user-1",
  amount: parseAmount("1.5"),
  memo: "refund",
  metadata: { order: 42, note: "naïve ✓", big: "12345678901234567890" },
};

/** A save of `state` (its full path `detail`), resting and holding the slot as that state does. */
export function write(
  state: PayoutWrite["state"],
  detail: string,
  extra: Partial<PayoutWrite> = {},
): PayoutWrite {
  const snapshot = {
    status: state === "completed" || state === "cancelled" ? "done" : "active",
    value: detail.includes(".") ? { [detail.split(".")[0]!]: detail.split(".")[1] } : detail,
    historyValue: {},
    context: { key: "k", nested: { list: [1, 2.5, null, "x"], flag: true } },
    children: {},
  } as unknown as PersistedPayoutSnapshot;
  return {
    snapshot,
    state,
    stateDetail: detail,
    paymentId: null,
    txid: null,
    atRest: ["completed", "cancelled", "failed"].includes(state),
    holdsSlot: !["completed", "cancelled"].includes(state),
    at: "2026-11-24T10:00:00.000Z",
    ...extra,
  };
}

/** A journal line, with the payout's view when the test reads it back. */
export const line = (
  from: string | null,
  to: string,
  event: string,
  view: object | null = null,
): JournalInput => ({
  at: "2026-11-24T10:00:00.000Z",
  from,
  to,
  event,
  details: { note: event },
  owner: "runner-a",
  view: view as Record<string, never> | null,
});

/** Keys in UTF-8 byte order, computed independently of any store (the order every store keeps). */
export const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Stores for one suite, each made fresh on a clock the tests move (`clock.time`, reset for
 * every store) and closed after its test.
 */
export function contractStores(factory: StoreFactory) {
  const clock = { time: 1_000_000 };
  const stores: PayoutStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  const make = async () => {
    clock.time = 1_000_000;
    const store = await factory(() => clock.time);
    stores.push(store);
    return store;
  };
  return { clock, make };
}
