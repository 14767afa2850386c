import { describe, expect, test } from "vitest";
import { isConflictError } from "../domain/index.js";
import type { PayoutWrite } from "../storage/types.js";
import {
  byUtf8,
  contractStores,
  intent,
  line,
  type PayoutStoreContractOptions,
  type StoreFactory,
  write,
} from "./contract-fixtures.js";
import { feedStoreContract } from "./feed-store-contract.js";
import { leaseAndSlotContract } from "./lease-slot-contract.js";

export type { PayoutStoreContractOptions, StoreFactory } from "./contract-fixtures.js";

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
  leaseAndSlotContract(name, factory, options);
  describe(`PayoutStore contract: ${name}`, () => {
    const { make } = contractStores(factory);

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

    test("a write's snapshot is stored whether or not it comes with its JSON text", async () => {
      const store = await make();
      const given = (w: PayoutWrite): PayoutWrite => ({
        ...w,
        snapshotJson: JSON.stringify(w.snapshot),
      });
      const w1 = write("created", "created.queued", { paymentId: "PAY1" });
      await store.create(
        { key: "a", intent, write: given(w1) },
        line(null, "created.queued", "PAY"),
      );
      expect((await store.get("a"))?.snapshot).toEqual(JSON.parse(JSON.stringify(w1.snapshot)));
      const w2 = write("stored", "stored.signing", { paymentId: "PAY1", txid: "e".repeat(64) });
      await store.save("a", 1, given(w2), line("created.queued", "stored.signing", "x"));
      const saved = await store.get("a");
      expect(saved?.snapshot).toEqual(JSON.parse(JSON.stringify(w2.snapshot)));
      expect(saved).not.toHaveProperty("snapshotJson");
      const w3 = write("submitted", "submitted.sending", { paymentId: "PAY1" });
      await store.save("a", 2, w3, line("stored.signing", "submitted.sending", "y"));
      expect((await store.get("a"))?.snapshot).toEqual(JSON.parse(JSON.stringify(w3.snapshot)));
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
  });
}
