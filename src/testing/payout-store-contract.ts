import { afterEach, describe, expect, test } from "vitest";
import { isConflictError, parseAmount } from "../domain/index.js";
import type { PersistedPayoutSnapshot } from "../machines/index.js";
import type { JournalInput, PayoutStore, PayoutWrite } from "../storage/types.js";
import { feedStoreContract } from "./feed-store-contract.js";

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

const intent = {
  uid: "user-1",
  amount: parseAmount("1.5"),
  memo: "refund",
  metadata: { order: 42, note: "naïve ✓", big: "12345678901234567890" },
};

function write(
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

const line = (from: string | null, to: string, event: string): JournalInput => ({
  at: "2026-11-24T10:00:00.000Z",
  from,
  to,
  event,
  details: { note: event },
  owner: "runner-a",
});

/** Keys in UTF-8 byte order, computed independently of any store (the order every store keeps). */
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * The storage port's contract: what every store must do. A new store (Redis, DynamoDB…)
 * is done when it passes this suite; see docs/storage-adapters.md. Runs under vitest.
 *
 * @example
 * import { payoutStoreContract } from "pi-payments/testing";
 * payoutStoreContract("my store", async (now) => createMyStore({ now }));
 */
export function payoutStoreContract(
  name: string,
  factory: StoreFactory,
  options: PayoutStoreContractOptions = {},
): void {
  feedStoreContract(name, factory);
  describe(`PayoutStore contract: ${name}`, () => {
    let time = 1_000_000;
    const stores: PayoutStore[] = [];
    const make = async () => {
      time = 1_000_000;
      const store = await factory(() => time);
      stores.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    });

    test("create inserts once; the same key returns the stored payout untouched", async () => {
      const store = await make();
      const first = await store.create(
        { key: "a", intent, write: write("created", "created.queued") },
        line(null, "created.queued", "PAY"),
      );
      expect(first.created).toBe(true);
      expect(first.payout).toMatchObject({
        key: "a",
        version: 1,
        state: "created",
        stateDetail: "created.queued",
        atRest: false,
      });
      const again = await store.create(
        {
          key: "a",
          intent: { ...intent, memo: "other" },
          write: write("stored", "stored.signing"),
        },
        line(null, "x", "PAY"),
      );
      expect(again.created).toBe(false);
      expect(again.payout).toEqual(first.payout);
      expect(await store.journal("a")).toHaveLength(1);
    });

    test("snapshots and intents round-trip through JSON exactly", async () => {
      const store = await make();
      const w = write("submitted", "submitted.sending", {
        paymentId: "PAY1",
        txid: "f".repeat(64),
      });
      await store.create({ key: "a", intent, write: w }, line(null, "submitted.sending", "PAY"));
      const stored = await store.get("a");
      expect(stored?.snapshot).toEqual(JSON.parse(JSON.stringify(w.snapshot)));
      expect(stored?.intent).toEqual(intent);
      expect(stored).toMatchObject({ paymentId: "PAY1", txid: "f".repeat(64) });
      expect(await store.findByPaymentId("PAY1")).toEqual(stored);
      expect(await store.findByPaymentId("nope")).toBeUndefined();
      expect(await store.get("nope")).toBeUndefined();
    });

    test("saves are compare-and-set on the version, with the journal line in the same step", async () => {
      const store = await make();
      await store.create(
        { key: "a", intent, write: write("created", "created.queued") },
        line(null, "created.queued", "PAY"),
      );
      const v2 = await store.save(
        "a",
        1,
        write("created", "created.creating"),
        line("created.queued", "created.creating", "acquireSlot.done"),
      );
      expect(v2.version).toBe(2);
      const stale = await store
        .save(
          "a",
          1,
          write("stored", "stored.signing"),
          line("created.creating", "stored.signing", "late"),
        )
        .catch((e: unknown) => e);
      expect(isConflictError(stale)).toBe(true);
      expect((await store.get("a"))?.stateDetail).toBe("created.creating");
      const missing = await store
        .save("zzz", 1, write("stored", "stored.signing"), line(null, "x", "y"))
        .catch((e: unknown) => e);
      expect(isConflictError(missing)).toBe(true);
      await store.save(
        "a",
        2,
        write("stored", "stored.signing", { paymentId: "P" }),
        line("created.creating", "stored.signing", "createPiPayment.done"),
      );
      const journal = await store.journal("a");
      expect(journal.map((j) => [j.from, j.to, j.event, j.version])).toEqual([
        [null, "created.queued", "PAY", 1],
        ["created.queued", "created.creating", "acquireSlot.done", 2],
        ["created.creating", "stored.signing", "createPiPayment.done", 3],
      ]);
      expect(journal[0]).toMatchObject({ key: "a", details: { note: "PAY" }, owner: "runner-a" });
      expect(journal[1]!.seq).toBeGreaterThan(journal[0]!.seq);
      expect(await store.journal("nope")).toEqual([]);
    });

    test("lists by state and settledness, in key order, with a limit and paging", async () => {
      const store = await make();
      const states: Array<[string, PayoutWrite["state"], string]> = [
        ["c", "completed", "completed"],
        ["a", "created", "created.queued"],
        ["d", "failed", "failed"],
        ["b", "submitted", "submitted.waiting"],
      ];
      for (const [key, state, detail] of states) {
        await store.create({ key, intent, write: write(state, detail) }, line(null, detail, "PAY"));
      }
      expect((await store.list()).map((p) => p.key)).toEqual(["a", "b", "c", "d"]);
      expect((await store.list({ state: "failed" })).map((p) => p.key)).toEqual(["d"]);
      expect((await store.list({ state: ["created", "submitted"] })).map((p) => p.key)).toEqual([
        "a",
        "b",
      ]);
      expect((await store.list({ atRest: false })).map((p) => p.key)).toEqual(["a", "b"]);
      expect((await store.list({ limit: 2 })).map((p) => p.key)).toEqual(["a", "b"]);
      expect((await store.list({ afterKey: "b" })).map((p) => p.key)).toEqual(["c", "d"]);
    });

    test("keys order bytewise (UTF-8), whatever the database's collation: paging sees each key once", async () => {
      const store = await make();
      // Case, punctuation and accents order differently under a linguistic collation (ICU
      // en-US); U+FFFF against an emoji tells UTF-16 code-unit order from code-point order.
      const keys = ["B", "a", "a-b", "a_b", "aB", "ab", "é", "z", "\uFFFF", "😀", "Z9"];
      keys.push("a b", "A", "\uE000", "0", "~", "ß", "e", "f");
      const unsettled = new Set<string>();
      for (const [i, key] of keys.entries()) {
        const state = i % 3 === 0 ? "completed" : "created";
        if (state === "created") unsettled.add(key);
        await store.create(
          { key, intent, write: write(state, state === "created" ? "created.queued" : state) },
          line(null, "x", "PAY"),
        );
      }
      const ordered = [...keys].sort(byUtf8);
      expect((await store.list()).map((p) => p.key)).toEqual(ordered);
      const pageThrough = async (filter: { atRest?: boolean }, limit: number) => {
        const seen: string[] = [];
        for (let afterKey: string | undefined; ; ) {
          const page = await store.list({
            ...filter,
            limit,
            ...(afterKey === undefined ? {} : { afterKey }),
          });
          seen.push(...page.map((p) => p.key));
          if (page.length < limit) return seen;
          afterKey = page.at(-1)!.key;
        }
      };
      for (const limit of [1, 2, 3, 5, 100]) {
        expect(await pageThrough({}, limit)).toEqual(ordered);
        expect(await pageThrough({ atRest: false }, limit)).toEqual(
          ordered.filter((key) => unsettled.has(key)),
        );
      }
    });

    test("a lease gives one runner per payout until it expires; saves are fenced by it", async () => {
      const store = await make();
      await store.create(
        { key: "a", intent, write: write("created", "created.queued") },
        line(null, "created.queued", "PAY"),
      );
      expect(await store.claim("a", "one", 1000)).toBe(true);
      expect(await store.claim("a", "two", 1000)).toBe(false);
      expect(await store.claim("a", "one", 1000)).toBe(true);
      expect(await store.renewAll("two", 1000)).toEqual([]);
      await store.save(
        "a",
        1,
        write("created", "created.creating"),
        line("created.queued", "created.creating", "e"),
        { owner: "one" },
      );
      const intruder = await store
        .save(
          "a",
          2,
          write("stored", "stored.signing"),
          line("created.creating", "stored.signing", "e"),
          { owner: "two" },
        )
        .catch((e: unknown) => e);
      expect(isConflictError(intruder)).toBe(true);

      time += 1001; // "one" died without releasing
      expect(await store.renewAll("one", 1000)).toEqual([]);
      const stale = await store
        .save(
          "a",
          2,
          write("stored", "stored.signing"),
          line("created.creating", "stored.signing", "e"),
          { owner: "one" },
        )
        .catch((e: unknown) => e);
      expect(isConflictError(stale)).toBe(true);
      expect(await store.claim("a", "two", 1000)).toBe(true);
      await store.save(
        "a",
        2,
        write("stored", "stored.signing"),
        line("created.creating", "stored.signing", "e"),
        { owner: "two" },
      );
      await store.release("a", "one");
      expect(await store.claim("a", "one", 1000)).toBe(false);
      await store.release("a", "two");
      expect(await store.claim("a", "one", 1000)).toBe(true);
      expect((await store.journal("a")).map((j) => j.version)).toEqual([1, 2, 3]);
    });

    test("create can lease the new payout to its creator", async () => {
      const store = await make();
      await store.create(
        { key: "a", intent, write: write("created", "created.queued") },
        line(null, "x", "PAY"),
        { lease: { owner: "one", ttlMs: 1000 } },
      );
      expect(await store.claim("a", "two", 1000)).toBe(false);
      expect(await store.claim("a", "one", 1000)).toBe(true);
      const again = await store.create(
        { key: "a", intent, write: write("created", "created.queued") },
        line(null, "x", "PAY"),
        { lease: { owner: "two", ttlMs: 1000 } },
      );
      expect(again.created).toBe(false);
      expect(await store.claim("a", "two", 1000)).toBe(false);
    });

    test("renewAll extends every live lease of an owner in one step and names them", async () => {
      const store = await make();
      for (const key of ["a", "b", "c"]) {
        await store.create(
          { key, intent, write: write("created", "created.queued") },
          line(null, "x", "PAY"),
        );
      }
      await store.claim("a", "one", 1000);
      await store.claim("b", "one", 1000);
      await store.claim("c", "two", 1000);
      time += 500;
      expect((await store.renewAll("one", 1000)).sort()).toEqual(["a", "b"]);
      time += 700; // past the first expiry, within the renewed one
      expect(await store.claim("a", "two", 1000)).toBe(false);
      expect(await store.claim("c", "one", 1000)).toBe(true);
      time += 2000;
      expect(await store.renewAll("one", 1000)).toEqual([]);
    });

    test("a save can give the lease up in the same step", async () => {
      const store = await make();
      await store.create(
        { key: "a", intent, write: write("txStored", "txStored.completing") },
        line(null, "x", "PAY"),
      );
      expect(await store.claim("a", "one", 60_000)).toBe(true);
      await store.save("a", 1, write("completed", "completed"), line("x", "completed", "done"), {
        owner: "one",
        release: true,
      });
      expect(await store.claim("a", "two", 60_000)).toBe(true);
    });

    test("claimNext leases the oldest unsettled payout nobody holds, one per caller", async () => {
      const store = await make();
      const created = async (key: string, at: string, state: PayoutWrite["state"] = "created") =>
        store.create(
          {
            key,
            intent,
            write: write(state, state === "created" ? "created.queued" : state, { at }),
          },
          line(null, "x", "PAY"),
        );
      await created("late", "2026-11-24T10:00:03.000Z");
      await created("early", "2026-11-24T10:00:01.000Z");
      await created("middle", "2026-11-24T10:00:02.000Z");
      await created("done", "2026-11-24T10:00:00.000Z", "completed");
      expect((await store.claimNext("w1", 1000))?.key).toBe("early");
      const [a, b] = await Promise.all([store.claimNext("w2", 1000), store.claimNext("w3", 1000)]);
      expect([a?.key, b?.key].sort()).toEqual(["late", "middle"]);
      expect(await store.claimNext("w4", 1000)).toBeUndefined();
      time += 1001;
      expect((await store.claimNext("w4", 1000, ["early"]))?.key).toBe("middle");
    });

    test("a slot has one holder per scope, kept until released (also by a save)", async () => {
      const store = await make();
      await store.create(
        { key: "a", intent, write: write("txStored", "txStored.completing") },
        line(null, "x", "PAY"),
      );
      await store.create(
        { key: "b", intent, write: write("created", "created.queued") },
        line(null, "x", "PAY"),
      );
      expect(await store.acquireSlot("app:W", "a")).toBe(true);
      expect(await store.acquireSlot("app:W", "a")).toBe(true);
      expect(await store.acquireSlot("app:W", "b")).toBe(false);
      expect(await store.acquireSlot("user:W:u2", "b")).toBe(true);
      expect(await store.slotHolder("app:W")).toBe("a");
      await store.releaseSlot("app:W", "b");
      expect(await store.slotHolder("app:W")).toBe("a");
      await store.save("a", 1, write("completed", "completed"), line("x", "completed", "done"), {
        releaseSlot: "app:W",
      });
      expect(await store.slotHolder("app:W")).toBeUndefined();
      expect(await store.acquireSlot("app:W", "b")).toBe(true);
    });

    test("holdsSlot round-trips; acquiring for a payout that may not hold the slot, or for no payout, is refused and takes nothing", async () => {
      const store = await make();
      await store.create(
        { key: "done", intent, write: write("cancelled", "cancelled") },
        line(null, "x", "PAY"),
      );
      await store.create(
        { key: "open", intent, write: write("created", "created.queued") },
        line(null, "x", "PAY"),
      );
      expect((await store.get("done"))?.holdsSlot).toBe(false);
      expect((await store.get("open"))?.holdsSlot).toBe(true);
      expect(await store.acquireSlot("app:W", "done")).toBe(false);
      expect(await store.acquireSlot("app:W", "nobody")).toBe(false);
      expect(await store.slotHolder("app:W")).toBeUndefined();
      expect(await store.acquireSlot("app:W", "open")).toBe(true);
    });

    test("a slot whose holder may no longer hold it is taken over by the next acquirer", async () => {
      const store = await make();
      for (const key of ["a", "b", "c"]) {
        await store.create(
          { key, intent, write: write("created", "created.queued") },
          line(null, "x", "PAY"),
        );
      }
      expect(await store.acquireSlot("app:W", "a")).toBe(true);
      // Saved settled without releasing the slot: what a cancel racing the acquisition left.
      await store.save("a", 1, write("cancelled", "cancelled"), line("x", "cancelled", "CANCEL"));
      expect(await store.slotHolder("app:W")).toBe("a");
      expect(await store.acquireSlot("app:W", "a")).toBe(false);
      expect(await store.acquireSlot("app:W", "b")).toBe(true);
      expect(await store.slotHolder("app:W")).toBe("b");
      expect(await store.acquireSlot("app:W", "c")).toBe(false);
      // A payout that may hold it again (an operator's retry) acquires like any other.
      await store.save(
        "b",
        1,
        write("failed", "failed", { holdsSlot: false }),
        line("x", "f", "e"),
      );
      await store.save("a", 2, write("created", "created.queued"), line("f", "x", "RETRY"));
      expect(await store.acquireSlot("app:W", "a")).toBe(true);
      expect(await store.slotHolder("app:W")).toBe("a");
    });

    test.skipIf(!options.seedSlot)(
      "a slot held by a key that is no payout is taken over by the next acquirer",
      async () => {
        const store = await make();
        await options.seedSlot!(store, "app:W", "ghost");
        expect(await store.slotHolder("app:W")).toBe("ghost");
        await store.create(
          { key: "a", intent, write: write("created", "created.queued") },
          line(null, "x", "PAY"),
        );
        expect(await store.acquireSlot("app:W", "a")).toBe(true);
        expect(await store.slotHolder("app:W")).toBe("a");
      },
    );

    test("concurrent acquisitions of one free slot give it to exactly one payout", async () => {
      const store = await make();
      const keys = ["a", "b", "c", "d"];
      for (const key of keys) {
        await store.create(
          { key, intent, write: write("created", "created.queued") },
          line(null, "x", "PAY"),
        );
      }
      const results = await Promise.all(keys.map((key) => store.acquireSlot("app:W", key)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    test("a stored payout shows its lease as stored, live or expired", async () => {
      const store = await make();
      const at = (ms: number) => new Date(ms).toISOString();
      const created = await store.create(
        { key: "a", intent, write: write("created", "created.queued") },
        line(null, "x", "PAY"),
        { lease: { owner: "one", ttlMs: 1000 } },
      );
      expect(created.payout.lease).toEqual({ owner: "one", expiresAt: at(time + 1000) });
      await store.create(
        { key: "b", intent, write: write("created", "created.queued") },
        line(null, "x", "PAY"),
      );
      expect((await store.get("b"))?.lease).toBeNull();
      time += 5000;
      expect((await store.get("a"))?.lease).toEqual({ owner: "one", expiresAt: at(1_001_000) });
      const next = await store.claimNext("two", 1000, ["b"]);
      expect(next?.lease).toEqual({ owner: "two", expiresAt: at(time + 1000) });
      expect((await store.list()).map((p) => p.lease?.owner ?? null)).toEqual(["two", null]);
      const saved = await store.save(
        "a",
        1,
        write("completed", "completed"),
        line("x", "completed", "done"),
        { owner: "two", release: true },
      );
      expect(saved.lease).toBeNull();
      expect((await store.get("a"))?.lease).toBeNull();
    });

    test("takeOver moves every lease of an owner, live or expired, to another in one step", async () => {
      const store = await make();
      for (const key of ["a", "b", "c", "d"]) {
        await store.create(
          { key, intent, write: write("created", "created.queued") },
          line(null, "x", "PAY"),
        );
      }
      await store.claim("a", "gone", 1000);
      await store.claim("b", "gone", 60_000);
      await store.claim("c", "alive", 60_000);
      time += 1001; // a's lease has expired, b's is live
      expect((await store.takeOver("gone", "heir", 5000)).sort()).toEqual(["a", "b"]);
      const expiresAt = new Date(time + 5000).toISOString();
      expect((await store.get("a"))?.lease).toEqual({ owner: "heir", expiresAt });
      expect((await store.get("b"))?.lease).toEqual({ owner: "heir", expiresAt });
      expect((await store.get("c"))?.lease?.owner).toBe("alive");
      expect((await store.get("d"))?.lease).toBeNull();
      expect(await store.claim("a", "other", 1000)).toBe(false);
      expect(await store.takeOver("gone", "heir", 5000)).toEqual([]);
      const stale = await store
        .save("b", 1, write("stored", "stored.signing"), line("x", "y", "e"), { owner: "gone" })
        .catch((e: unknown) => e);
      expect(isConflictError(stale)).toBe(true);
      await store.save("b", 1, write("stored", "stored.signing"), line("x", "y", "e"), {
        owner: "heir",
      });
    });

    test("leaseOwners names each owner of a live lease once", async () => {
      const store = await make();
      expect(await store.leaseOwners()).toEqual([]);
      for (const key of ["a", "b", "c", "d"]) {
        await store.create(
          { key, intent, write: write("created", "created.queued") },
          line(null, "x", "PAY"),
        );
      }
      await store.claim("a", "one", 10_000);
      await store.claim("b", "one", 10_000);
      await store.claim("c", "two", 1000);
      await store.claim("d", "three", 10_000);
      expect((await store.leaseOwners()).sort()).toEqual(["one", "three", "two"]);
      time += 1001; // two's lease has expired
      await store.release("d", "three");
      expect(await store.leaseOwners()).toEqual(["one"]);
    });
  });
}
