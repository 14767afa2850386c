import { describe, expect, test } from "vitest";
import { isConflictError } from "../domain/index.js";
import type { PayoutWrite } from "../storage/types.js";
import {
  contractStores,
  intent,
  line,
  type PayoutStoreContractOptions,
  type StoreFactory,
  write,
} from "./contract-fixtures.js";

/**
 * The storage contract's leases (one runner per payout across processes, fenced saves,
 * takeovers) and slots (one open Pi payment per scope). Run by `payoutStoreContract`.
 */
export function leaseAndSlotContract(
  name: string,
  factory: StoreFactory,
  options: PayoutStoreContractOptions = {},
): void {
  describe(`PayoutStore contract, leases and slots: ${name}`, () => {
    const { clock, make } = contractStores(factory);

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

      clock.time += 1001; // "one" died without releasing
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
      clock.time += 500;
      expect((await store.renewAll("one", 1000)).sort()).toEqual(["a", "b"]);
      clock.time += 700; // past the first expiry, within the renewed one
      expect(await store.claim("a", "two", 1000)).toBe(false);
      expect(await store.claim("c", "one", 1000)).toBe(true);
      clock.time += 2000;
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
      clock.time += 1001;
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

    test("create can take a new payout's slot in the same write: a free one only, and only for a new payout that may hold it", async () => {
      const store = await make();
      const queued = () => write("created", "created.queued");
      await store.create({ key: "a", intent, write: queued() }, line(null, "x", "PAY"), {
        slot: "app:W",
      });
      // A store may ignore the option (acquireSlot then takes the slot): it takes nothing.
      const takes = (await store.slotHolder("app:W")) === "a";
      if (!takes) {
        expect(await store.slotHolder("app:W")).toBeUndefined();
        expect(await store.acquireSlot("app:W", "a")).toBe(true);
      }
      // Held: b is stored all the same, and waits for the slot as any payout does.
      const b = await store.create({ key: "b", intent, write: queued() }, line(null, "x", "PAY"), {
        slot: "app:W",
      });
      expect(b.created).toBe(true);
      expect(await store.slotHolder("app:W")).toBe("a");
      // A key that exists already takes nothing, nor does a payout that may not hold a slot.
      await store.create({ key: "a", intent, write: queued() }, line(null, "x", "PAY"), {
        slot: "user:W:u1",
      });
      expect(await store.slotHolder("user:W:u1")).toBeUndefined();
      await store.create(
        { key: "gone", intent, write: write("cancelled", "cancelled") },
        line(null, "x", "PAY"),
        { slot: "user:W:u2" },
      );
      expect(await store.slotHolder("user:W:u2")).toBeUndefined();
      // A slot leaked by a holder that may no longer hold it is not taken over here:
      // that is acquireSlot's to do.
      await store.save("a", 1, write("completed", "completed"), line("x", "completed", "done"));
      await store.create({ key: "c", intent, write: queued() }, line(null, "x", "PAY"), {
        slot: "app:W",
      });
      expect(await store.slotHolder("app:W")).toBe("a");
      expect(await store.acquireSlot("app:W", "c")).toBe(true);
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
      expect(created.payout.lease).toEqual({ owner: "one", expiresAt: at(clock.time + 1000) });
      await store.create(
        { key: "b", intent, write: write("created", "created.queued") },
        line(null, "x", "PAY"),
      );
      expect((await store.get("b"))?.lease).toBeNull();
      clock.time += 5000;
      expect((await store.get("a"))?.lease).toEqual({ owner: "one", expiresAt: at(1_001_000) });
      const next = await store.claimNext("two", 1000, ["b"]);
      expect(next?.lease).toEqual({ owner: "two", expiresAt: at(clock.time + 1000) });
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
      clock.time += 1001; // a's lease has expired, b's is live
      expect((await store.takeOver("gone", "heir", 5000)).sort()).toEqual(["a", "b"]);
      const expiresAt = new Date(clock.time + 5000).toISOString();
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
      clock.time += 1001; // two's lease has expired
      await store.release("d", "three");
      expect(await store.leaseOwners()).toEqual(["one"]);
    });
  });
}
