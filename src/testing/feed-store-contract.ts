import { describe, expect, test } from "vitest";
import type { HookFailure, PayoutStore, PayoutWrite } from "../storage/types.js";
import { contractStores, intent, line, type StoreFactory, write } from "./contract-fixtures.js";

/** A step of the feed's payouts: busy, holding the slot. */
const step = (detail: string, extra: Partial<PayoutWrite> = {}): PayoutWrite =>
  write(detail.split(".")[0] as PayoutWrite["state"], detail, {
    atRest: false,
    holdsSlot: true,
    ...extra,
  });

/**
 * The feed's part of the storage contract: the journal read store-wide in commit order,
 * named consumers with a cursor and a lease, dead letters. Run by `payoutStoreContract`.
 */
export function feedStoreContract(name: string, factory: StoreFactory): void {
  describe(`FeedStore contract: ${name}`, () => {
    const { clock, make } = contractStores(factory);

    /** Three payouts, interleaved: seven lines in all. */
    const fill = async (store: PayoutStore) => {
      for (const key of ["a", "b", "c"]) {
        await store.create(
          { key, intent, write: step("created.queued") },
          line(null, "created.queued", "PAY", { key, state: "created" }),
        );
      }
      let version = 1;
      for (const to of ["stored.idle", "submitted.sending"]) {
        for (const key of ["a", "b"]) {
          await store.save(key, version, step(to), line("x", to, "step", { key, to }));
        }
        version += 1;
      }
    };

    test("readJournal pages through every line in position order, views included", async () => {
      const store = await make();
      expect(await store.lastPosition()).toBe(0);
      expect(await store.readJournal(0, 10)).toEqual([]);
      await fill(store);
      const all = await store.readJournal(0, 100);
      expect(all.map((l) => [l.key, l.to])).toEqual([
        ["a", "created.queued"],
        ["b", "created.queued"],
        ["c", "created.queued"],
        ["a", "stored.idle"],
        ["b", "stored.idle"],
        ["a", "submitted.sending"],
        ["b", "submitted.sending"],
      ]);
      const positions = all.map((l) => l.position!);
      expect(positions).toEqual([...positions].sort((x, y) => x - y));
      expect(new Set(positions).size).toBe(7);
      expect(all[0]!.view).toEqual({ key: "a", state: "created" });
      expect(await store.lastPosition()).toBe(positions[6]);
      const page = await store.readJournal(positions[2]!, 2);
      expect(page.map((l) => l.position)).toEqual([positions[3], positions[4]]);
      expect(await store.readJournal(positions[6]!, 10)).toEqual([]);
      // The per-payout journal carries the same lines.
      expect((await store.journal("a")).map((l) => l.position)).toEqual([
        positions[0],
        positions[3],
        positions[5],
      ]);
    });

    test("a consumer starts at the start or now, and one owner holds it at a time", async () => {
      const store = await make();
      await fill(store);
      const last = await store.lastPosition();
      expect(await store.claimConsumer("shop", "one", 1000, "start")).toEqual({ cursor: 0 });
      expect(await store.claimConsumer("shop", "two", 1000, "start")).toBeUndefined();
      expect(await store.claimConsumer("shop", "one", 1000, "start")).toEqual({ cursor: 0 });
      expect(await store.claimConsumer("late", "two", 1000, "now")).toEqual({ cursor: last });
      // "from" only matters for a new name.
      expect(await store.claimConsumer("late", "two", 1000, "start")).toEqual({ cursor: last });
    });

    test("ack moves the cursor forward only, and only for the live holder", async () => {
      const store = await make();
      await store.claimConsumer("shop", "one", 1000, "start");
      expect(await store.ackConsumer("shop", "one", 5, 1000)).toBe(true);
      expect(await store.ackConsumer("shop", "one", 3, 1000)).toBe(true);
      expect(await store.ackConsumer("shop", "two", 9, 1000)).toBe(false);
      expect(await store.ackConsumer("nobody", "one", 9, 1000)).toBe(false);
      const [state] = await store.consumers();
      expect(state).toMatchObject({ name: "shop", cursor: 5, owner: "one" });
      // Expired: the holder can no longer ack, and another takes over at the cursor.
      clock.time += 1001;
      expect(await store.ackConsumer("shop", "one", 7, 1000)).toBe(false);
      expect(await store.claimConsumer("shop", "two", 1000, "start")).toEqual({ cursor: 5 });
      expect(await store.ackConsumer("shop", "one", 7, 1000)).toBe(false);
      expect(await store.ackConsumer("shop", "two", 7, 1000)).toBe(true);
    });

    test("a released consumer is free for another owner, its cursor kept", async () => {
      const store = await make();
      await store.claimConsumer("shop", "one", 60_000, "start");
      await store.ackConsumer("shop", "one", 4, 60_000);
      await store.releaseConsumer("shop", "two");
      expect(await store.claimConsumer("shop", "two", 60_000, "start")).toBeUndefined();
      await store.releaseConsumer("shop", "one");
      const [released] = await store.consumers();
      expect(released).toMatchObject({ owner: null, leaseExpiresAt: null, cursor: 4 });
      expect(await store.claimConsumer("shop", "two", 60_000, "start")).toEqual({ cursor: 4 });
    });

    test("dead letters are kept once per consumer and line, listed and removed", async () => {
      const store = await make();
      const at = "2026-12-01T10:00:00.000Z";
      const first = await store.addDeadLetter({
        consumer: "hooks",
        seq: 3,
        attempts: 8,
        error: "HTTP 500",
        at,
      });
      const again = await store.addDeadLetter({
        consumer: "hooks",
        seq: 3,
        attempts: 9,
        error: "HTTP 502",
        at,
      });
      expect(again.id).toBe(first.id);
      await store.addDeadLetter({ consumer: "other", seq: 3, attempts: 1, error: "x", at });
      expect((await store.deadLetters()).length).toBe(2);
      expect(await store.deadLetters("hooks")).toEqual([
        { id: first.id, consumer: "hooks", seq: 3, attempts: 8, error: "HTTP 500", at },
      ]);
      expect(await store.removeDeadLetter(first.id)).toBe(true);
      expect(await store.removeDeadLetter(first.id)).toBe(false);
      expect(await store.deadLetters("hooks")).toEqual([]);
    });

    test("a hook failure is stored with a save, and the next save clears it", async () => {
      const store = await make();
      await store.create(
        { key: "a", intent, write: step("created.queued") },
        line(null, "x", "PAY"),
      );
      const failure: HookFailure = {
        attempts: 2,
        error: { name: "Error", code: "ON_SETTLED_FAILED", message: "boom", retryable: true },
        at: "2026-12-01T10:00:00.000Z",
        nextAttemptAt: "2026-12-01T10:00:02.000Z",
      };
      const noted = await store.save(
        "a",
        1,
        step("stored.idle", { hookFailure: failure }),
        line("x", "y", "z"),
      );
      expect(noted.hookFailure).toEqual(failure);
      expect((await store.get("a"))!.hookFailure).toEqual(failure);
      const cleared = await store.save("a", 2, step("stored.idle"), line("y", "y", "z"));
      expect(cleared.hookFailure).toBeNull();
    });
  });
}
