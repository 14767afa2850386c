import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { PayoutEvent } from "../../src/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createPostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import type { PayoutStore } from "../../src/storage/types.js";
import { testPayouts } from "../helpers/payouts.js";
import { testPostgres } from "../helpers/postgres.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";

const fast = { ledgerIntervalMs: 5, clock: "simulated" as const };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The three stores, each made fresh per test (two runtimes may share one). */
const stores: [string, () => Promise<PayoutStore>][] = [
  ["memory", async () => createMemoryStore()],
  [
    "sqlite",
    async () => {
      const path = join(
        tmpdir(),
        `pi-feed-${process.pid}-${Math.random().toString(36).slice(2)}.db`,
      );
      cleanups.push(() => {
        for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
      });
      return createSqliteStore({ path });
    },
  ],
  [
    "postgres",
    async () => {
      const { pool, schema, cleanup } = await testPostgres();
      cleanups.push(cleanup);
      return createPostgresStore({ pool, schema });
    },
  ],
];

describe.each(stores)("the event feed on the %s store", (_name, makeStore) => {
  test("a payout's steps are events, in order, with the payout and the process that made them", async () => {
    const sandbox = await testSandbox(fast);
    const store = await makeStore();
    const payouts = testPayouts(sandbox, { store });
    const user = sandbox.users[0]!;
    const paid = await payouts.pay({
      key: "refund-1",
      uid: user.uid,
      amount: "1.5",
      memo: "Refund",
    });

    const events = await payouts.events.read();
    expect(events.map((e) => e.type)).toEqual([
      "payout.created",
      "payout.step",
      "payout.step",
      "payout.step",
      "payout.step",
      "payout.completed",
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(events.map((e) => e.id)).size).toBe(6);
    const completed = events.at(-1)!;
    expect(completed).toMatchObject({
      v: 1,
      key: "refund-1",
      state: "completed",
      stateDetail: "completed",
      actor: { type: "process", id: payouts.owner },
      payout: { key: "refund-1", state: "completed", txid: paid.txid, amount: "1.5" },
      step: { from: "txStored.completing", version: 6 },
    });
    // The event is plain data: it survives JSON unchanged, and holds no secret.
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
    const text = JSON.stringify([events, await payouts.events.consumers()]);
    expect(text).not.toContain(sandbox.walletSeed);
    expect(text).not.toContain(sandbox.apiKey);
    // Paging: after the third, at most two.
    expect((await payouts.events.read({ after: 3, limit: 2 })).map((e) => e.seq)).toEqual([4, 5]);
    // PGlite's first start is slow on a loaded machine.
  }, 60_000);

  test("a person's cancel and retry name them and their reason", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox, { store: await makeStore() });
    const user = sandbox.users[0]!;
    await payouts.enqueue({ key: "k", uid: user.uid, amount: "1", memo: "m" });
    await payouts.cancel("k", { by: "alice", reason: "duplicate order" });
    const events = await payouts.events.read();
    expect(events.at(-1)).toMatchObject({
      type: "payout.cancelled",
      actor: { type: "person", name: "alice", reason: "duplicate order" },
      step: { event: "CANCEL", details: { by: "alice", reason: "duplicate order" } },
    });
  });

  test("a durable consumer sees every event once, in order, and resumes from its cursor", async () => {
    const sandbox = await testSandbox(fast);
    const store = await makeStore();
    const payouts = testPayouts(sandbox, { store });
    const user = sandbox.users[0]!;
    for (let i = 0; i < 3; i++)
      await payouts.enqueue({ key: `k${i}`, uid: user.uid, amount: "1", memo: "m" });

    const seen: PayoutEvent[] = [];
    const consumer = payouts.events.consume(
      "shop",
      (event) => {
        seen.push(event);
      },
      { pollMs: 5 },
    );
    await eventually(() => seen.length === 3);
    await consumer.stop();
    expect(consumer.cursor).toBe(3);
    expect(seen.map((e) => e.key)).toEqual(["k0", "k1", "k2"]);

    // Steps made while nobody consumes, then another consumer under the same name: it
    // starts after the cursor, and sees no event twice.
    await payouts.cancel("k1", { by: "bob" });
    const again: PayoutEvent[] = [];
    const second = payouts.events.consume(
      "shop",
      (event) => {
        again.push(event);
      },
      { pollMs: 5 },
    );
    await eventually(() => again.length === 1);
    await second.stop();
    expect(again).toEqual([
      expect.objectContaining({ seq: 4, type: "payout.cancelled", key: "k1" }),
    ]);
    expect(await payouts.events.consumers()).toEqual([
      expect.objectContaining({ name: "shop", cursor: 4, owner: null }),
    ]);
  });

  test('a new name with from: "now" sees only what happens after it started', async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox, { store: await makeStore() });
    const user = sandbox.users[0]!;
    await payouts.enqueue({ key: "old", uid: user.uid, amount: "1", memo: "m" });
    const seen: string[] = [];
    const consumer = payouts.events.consume(
      "late",
      (e) => {
        seen.push(e.key);
      },
      { from: "now", pollMs: 5 },
    );
    await eventually(async () => (await payouts.events.consumers()).length === 1);
    await payouts.enqueue({ key: "new", uid: user.uid, amount: "1", memo: "m" });
    await eventually(() => seen.length === 1);
    await consumer.stop();
    expect(seen).toEqual(["new"]);
  });

  test("a consumer idle for a long poll is woken by this process's steps; subscribers still get views", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox, { store: await makeStore() });
    const user = sandbox.users[0]!;
    const seen: string[] = [];
    const consumer = payouts.events.consume(
      "waking",
      (e) => {
        seen.push(`${e.key} ${e.type}`);
      },
      { pollMs: 600_000 },
    );
    cleanups.push(() => consumer.stop());
    // Caught up on an empty feed: from here it naps for ten minutes unless a step wakes it.
    await eventually(async () => (await payouts.events.consumers()).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const viewed: string[] = [];
    const unsubscribe = payouts.subscribe((step) => viewed.push(step.payout.state));
    await payouts.enqueue({ key: "queued", uid: user.uid, amount: "1", memo: "m" });
    await payouts.pay({ key: "paid", uid: user.uid, amount: "1", memo: "m" });
    unsubscribe();
    await eventually(() => seen.includes("paid payout.completed"), { timeoutMs: 5_000 });
    expect(seen[0]).toBe("queued payout.created");
    expect(viewed.at(-1)).toBe("completed");
  });

  test("a handler that throws gets the same event again, and nothing after it meanwhile", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox, { store: await makeStore() });
    const user = sandbox.users[0]!;
    await payouts.enqueue({ key: "a", uid: user.uid, amount: "1", memo: "m" });
    await payouts.enqueue({ key: "b", uid: user.uid, amount: "1", memo: "m" });
    const calls: string[] = [];
    const errors: number[] = [];
    const consumer = payouts.events.consume(
      "flaky",
      (e) => {
        calls.push(e.key);
        if (e.key === "a" && calls.length < 3) throw new Error("host database down");
      },
      {
        pollMs: 5,
        backoff: { baseDelayMs: 1, maxDelayMs: 2 },
        onError: (_e, _ev, n) => errors.push(n),
      },
    );
    await eventually(() => calls.includes("b"));
    await consumer.stop();
    expect(calls).toEqual(["a", "a", "a", "b"]);
    expect(errors).toEqual([1, 2]);
  });

  test("handlers that return a promise and handlers that return at once are treated alike", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox, { store: await makeStore() });
    const user = sandbox.users[0]!;
    for (const key of ["a", "b", "c", "d", "e"])
      await payouts.enqueue({ key, uid: user.uid, amount: "1", memo: "m" });
    const calls: string[] = [];
    const signals: AbortSignal[] = [];
    let inFlight: AbortSignal | undefined;
    const consumer = payouts.events.consume(
      "mixed",
      (e, context) => {
        calls.push(`${e.key}${context.attempt}`);
        // b rejects once, later; c throws once, at once; d's `then` throws; a succeeds at
        // once; e waits for the consumer to stop, and then succeeds.
        if (e.key === "b" && context.attempt === 1)
          return new Promise((_, reject) => setTimeout(() => reject(new Error("later")), 2));
        if (e.key === "c" && context.attempt === 1) throw new Error("at once");
        if (e.key === "d" && context.attempt === 1)
          return {
            // biome-ignore lint/suspicious/noThenProperty: the broken thenable is the point.
            get then() {
              throw new Error("a broken thenable");
            },
          };
        if (e.key === "e") {
          const { signal } = context;
          inFlight = signal;
          return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        }
        signals.push(context.signal);
        return e.key === "a" ? undefined : Promise.resolve();
      },
      { pollMs: 5, backoff: { baseDelayMs: 1, maxDelayMs: 2 } },
    );
    await eventually(() => inFlight !== undefined);
    expect(calls).toEqual(["a1", "b1", "b2", "c1", "c2", "d1", "d2", "e1"]);
    expect(consumer.handled).toBe(4);
    // Each call has a signal of its own; one that has settled is not aborted later.
    expect(new Set(signals).size).toBe(signals.length);
    expect(inFlight!.aborted).toBe(false);
    // Stopping tells the call in flight, waits for it, and acknowledges it.
    await consumer.stop();
    expect(inFlight!.aborted).toBe(true);
    expect(signals.some((signal) => signal.aborted)).toBe(false);
    expect(consumer.cursor).toBe(5);
    expect(consumer.handled).toBe(5);
  });

  test("a long drain lets timers and I/O run between batches", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox, { store: await makeStore() });
    const user = sandbox.users[0]!;
    for (let i = 0; i < 30; i++)
      await payouts.enqueue({ key: `k${i}`, uid: user.uid, amount: "1", memo: "m" });
    // Counts turns of the event loop while the consumer drains with a handler that never
    // waits: store calls that answer at once (memory, SQLite) yield to promises only.
    let turns = 0;
    let spinning = true;
    const spin = () => {
      turns += 1;
      if (spinning) setImmediate(spin);
    };
    setImmediate(spin);
    const turnAt: number[] = [];
    const consumer = payouts.events.consume("drain", () => void turnAt.push(turns), {
      batchSize: 5,
      pollMs: 5,
    });
    await eventually(() => consumer.cursor === 30);
    spinning = false;
    await consumer.stop();
    // Six full batches: the loop turned at least between each of them.
    expect(new Set(turnAt).size).toBeGreaterThanOrEqual(6);
  });

  test("two runtimes on one store: one holds the name, the other stands by and takes over when it stops", async () => {
    const sandbox = await testSandbox(fast);
    const store = await makeStore();
    const first = testPayouts(sandbox, { store });
    const second = testPayouts(sandbox, { store });
    const user = sandbox.users[0]!;
    const seen: [string, string][] = [];
    const a = first.events.consume(
      "audit",
      (e) => {
        seen.push(["first", e.key]);
      },
      { pollMs: 5, leaseMs: 300 },
    );
    await eventually(() => a.holding);
    const b = second.events.consume(
      "audit",
      (e) => {
        seen.push(["second", e.key]);
      },
      { pollMs: 5, leaseMs: 300 },
    );
    // A payout the other runtime enqueues is seen by the holder.
    await second.enqueue({ key: "one", uid: user.uid, amount: "1", memo: "m" });
    await eventually(() => seen.length === 1);
    expect(b.holding).toBe(false);
    await a.stop();
    await first.enqueue({ key: "two", uid: user.uid, amount: "1", memo: "m" });
    await eventually(() => seen.length === 2);
    await b.stop();
    expect(seen).toEqual([
      ["first", "one"],
      ["second", "two"],
    ]);
  });

  test("bad arguments are a ValidationError naming the option", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox, { store: await makeStore() });
    expect(() => payouts.events.consume("", () => {})).toThrow(/name/);
    expect(() => payouts.events.consume("x", "nope" as never)).toThrow(/handler/);
    expect(() => payouts.events.consume("x", () => {}, { from: "end" as never })).toThrow(/from/);
    await expect(payouts.events.read({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(payouts.cancel("missing", { by: 3 as never })).rejects.toThrow(/by/);
  });
});
