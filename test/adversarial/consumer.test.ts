/**
 * Claim 2: one holder per consumer name at a time, at least once, in order.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as abortableSleep } from "node:timers/promises";
import { afterEach, describe, expect, test } from "vitest";
import type { HandlerContext } from "../../src/events/consumer-types.js";
import { createEventFeed } from "../../src/events/event-feed.js";
import type { PayoutEvent } from "../../src/events/payout-event.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createPostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import type { PayoutStore } from "../../src/storage/types.js";
import { line, newPayout, pgSchema, pgUrl, sleep } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sqlitePath = () => {
  const path = join(
    tmpdir(),
    `adv-consumer-${process.pid}-${Math.random().toString(36).slice(2)}.db`,
  );
  cleanups.push(() => {
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
  });
  return path;
};

const fill = async (store: PayoutStore, n: number) => {
  for (let i = 1; i <= n; i++)
    await store.create(newPayout(`k${i}`), line(null, "created.queued", "PAY"));
};

const feedOf = (store: PayoutStore, owner: string) =>
  createEventFeed({ store, owner, onLocalStep: () => () => undefined });

/** `inner`, whose acknowledgements fail (a store blip, a cut connection) while `failing()` says so. */
const withFailingAcks = (inner: PayoutStore, failing: () => boolean): PayoutStore => ({
  ...inner,
  ackConsumer: async (...args) => {
    if (failing()) throw new Error("connection reset");
    return inner.ackConsumer(...args);
  },
});

/** A feed whose local steps the test makes: `step()` wakes its consumers as a save would. */
function feedWithSteps(store: PayoutStore, owner: string) {
  let wake: (() => void) | undefined;
  const feed = createEventFeed({
    store,
    owner,
    onLocalStep: (w) => {
      wake = w;
      return () => undefined;
    },
  });
  return { feed, step: () => wake?.() };
}

/** Records, per event, which holders had it in flight, and whether two overlapped. */
function overlapTracker() {
  let inFlight = 0;
  let maxInFlight = 0;
  const handled: { who: string; seq: number }[] = [];
  const aborted: { who: string; seq: number }[] = [];
  return {
    /** A handler that takes `ms`, giving up when its signal aborts (as a fetch would). */
    handler:
      (who: string, ms: number) =>
      async (event: PayoutEvent, { signal }: HandlerContext) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await abortableSleep(ms, undefined, { signal });
          handled.push({ who, seq: event.seq });
        } catch (error) {
          aborted.push({ who, seq: event.seq });
          throw error;
        } finally {
          inFlight -= 1;
        }
      },
    aborted,
    get maxInFlight() {
      return maxInFlight;
    },
    handled,
  };
}

describe("consumer exclusivity", () => {
  test("finding C1: the same name consumed twice in one runtime has one holder at a time", async () => {
    const store = createSqliteStore({ path: sqlitePath() });
    cleanups.push(() => store.close());
    await fill(store, 6);
    // What payouts.events.consume does twice in one process (two modules, a hot reload, a
    // second call after an error): the runtime's owner is shared.
    const feed = feedOf(store, "host:1:abc.def");
    const t = overlapTracker();
    const a = feed.consume("webhooks", t.handler("a", 40), { leaseMs: 600, pollMs: 10 });
    const b = feed.consume("webhooks", t.handler("b", 40), { leaseMs: 600, pollMs: 10 });
    await sleep(600);
    await Promise.all([a.stop(), b.stop()]);
    expect({ a: a.holding, b: b.holding }).toBeDefined();
    // Two holders handled the same events concurrently:
    expect(t.maxInFlight, "handlers in flight at once under one name").toBe(1);
  });

  test("finding C2: a holder cut off from the store aborts its handler before another takes over", async () => {
    const path = sqlitePath();
    const healthy = createSqliteStore({ path });
    const cutOffInner = createSqliteStore({ path });
    cleanups.push(() => healthy.close());
    cleanups.push(() => cutOffInner.close());
    await fill(healthy, 3);
    // Process A: every call to the store hangs from 100 ms on: a network partition.
    let partitioned = false;
    const hangsWhenCut =
      <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> =>
        partitioned ? new Promise<R>(() => {}) : call(...args);
    const cutOff: PayoutStore = {
      ...cutOffInner,
      ackConsumer: hangsWhenCut(cutOffInner.ackConsumer),
      claimConsumer: hangsWhenCut(cutOffInner.claimConsumer),
      readJournal: hangsWhenCut(cutOffInner.readJournal),
      releaseConsumer: hangsWhenCut(cutOffInner.releaseConsumer),
    };
    const t = overlapTracker();
    const leaseMs = 300;
    // A's handler talks to a slow webhook (1.5 s); nothing tells it its lease has gone.
    const a = feedOf(cutOff, "proc-a").consume("webhooks", t.handler("a", 1500), {
      leaseMs,
      pollMs: 10,
    });
    await sleep(100);
    partitioned = true;
    await sleep(50);
    const b = feedOf(healthy, "proc-b").consume("webhooks", t.handler("b", 20), {
      leaseMs,
      pollMs: 10,
    });
    await sleep(1700);
    void a.stop();
    await b.stop();
    expect(t.maxInFlight, "two processes handling one name at once").toBe(1);
    // A gave up on event 1 (its signal aborted); B handled everything.
    expect(t.aborted[0]).toEqual({ who: "a", seq: 1 });
    expect(t.handled.filter((h) => h.who === "b").map((h) => h.seq)).toEqual([1, 2, 3]);
  });

  test("finding C3: stop() resolves while a handler hangs, once the lease can no longer be trusted", async () => {
    const store = createMemoryStore();
    await fill(store, 1);
    const c = feedOf(store, "me").consume("hangs", () => new Promise(() => {}), {
      pollMs: 10,
      leaseMs: 500,
    });
    await sleep(50);
    const stopped = await Promise.race([
      c.stop().then(() => "stopped"),
      sleep(2000).then(() => "still waiting"),
    ]);
    expect(stopped).toBe("stopped");
  });

  test("holds: a handler that ignores its signal past a lapsed lease is waited out, then the holder claims again and goes on", async () => {
    const inner = createMemoryStore();
    await fill(inner, 3);
    // The store refuses every renewal for a while: the holder's lease can no longer be trusted.
    let refusing = false;
    const store = withFailingAcks(inner, () => refusing);
    let inFlight = 0;
    let maxInFlight = 0;
    const calls: number[] = [];
    const c = feedOf(store, "me").consume(
      "stubborn",
      async (event: PayoutEvent) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        calls.push(event.seq);
        // The first call runs on for 600 ms whatever its signal says.
        if (calls.length === 1) {
          refusing = true;
          await sleep(600);
          refusing = false;
        }
        inFlight -= 1;
      },
      { leaseMs: 300, pollMs: 20 },
    );
    for (let waited = 0; c.cursor < 3 && waited < 5000; waited += 20) await sleep(20);
    await c.stop();
    expect(c.cursor, "every event acknowledged in the end").toBe(3);
    expect(maxInFlight, "the abandoned call and the next never overlap").toBe(1);
    // The first event, left unacknowledged when the lease lapsed, comes again first.
    expect(calls.slice(0, 2)).toEqual([1, 1]);
    expect([...new Set(calls)]).toEqual([1, 2, 3]);
  });

  test("holds: an ack that throws (store blip) redelivers and loses nothing; the cursor never goes back", async () => {
    const inner = createMemoryStore();
    await fill(inner, 20);
    let fail = 3;
    const flaky = withFailingAcks(inner, () => fail-- > 0);
    const seen: number[] = [];
    const c = feedOf(flaky, "me").consume("x", (e) => void seen.push(e.seq), {
      batchSize: 4,
      pollMs: 5,
    });
    await sleep(300);
    await c.stop();
    expect(new Set(seen)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i + 1)));
    // In order, with redeliveries only of a batch after the cursor.
    for (let i = 1; i < seen.length; i++) {
      if (seen[i]! < seen[i - 1]!) expect(seen[i]! % 4).toBe(1);
    }
    const [state] = await inner.consumers();
    expect(state!.cursor).toBe(20);
  });

  test("holds: an acknowledgement that fails as the consumer stops still lets the name go", async () => {
    const inner = createMemoryStore();
    await fill(inner, 3);
    let failing = false;
    const flaky = withFailingAcks(inner, () => failing);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const c = feedOf(flaky, "me").consume(
      "x",
      async (e) => {
        if (e.seq === 3) await gate;
      },
      { batchSize: 1, pollMs: 5, leaseMs: 600_000 },
    );
    while (c.cursor < 2) await sleep(5);
    // A handler in flight; the acknowledgement of what it handled will fail.
    failing = true;
    const stopping = c.stop();
    release();
    await stopping;
    const [state] = await inner.consumers();
    // Not held for the rest of a ten-minute lease: a restarted process takes the name at once.
    expect(state!.owner).toBeNull();
    expect(state!.cursor).toBe(2);
    const next = feedOf(inner, "restarted").consume("x", () => {}, { pollMs: 5 });
    cleanups.push(() => next.stop());
    const deadline = Date.now() + 2_000;
    while (!next.holding && Date.now() < deadline) await sleep(5);
    expect(next.holding).toBe(true);
  });

  test("holds: claim + ack fencing across two SQLite connections with an expired lease", async () => {
    const path = sqlitePath();
    const a = createSqliteStore({ path });
    const b = createSqliteStore({ path });
    cleanups.push(() => a.close());
    cleanups.push(() => b.close());
    expect(await a.claimConsumer("n", "A", 100, "start")).toEqual({ cursor: 0 });
    expect(await b.claimConsumer("n", "B", 100, "start")).toBeUndefined();
    await sleep(120);
    expect(await b.claimConsumer("n", "B", 100, "start")).toEqual({ cursor: 0 });
    expect(await a.ackConsumer("n", "A", 5, 100)).toBe(false);
    expect(await b.ackConsumer("n", "B", 3, 100)).toBe(true);
    expect(await b.ackConsumer("n", "B", 1, 100)).toBe(true);
    expect((await b.consumers())[0]!.cursor).toBe(3);
  });

  test.skipIf(!pgUrl)(
    "finding C4: a consumer name with a NUL character is refused up front",
    async () => {
      const { schema, pools, asPool, cleanup } = pgSchema(1, 2);
      cleanups.push(cleanup);
      const store = createPostgresStore({ pool: asPool(pools[0]!), schema });
      await fill(store, 2);
      const errors: string[] = [];
      const seen: number[] = [];
      let c: ReturnType<ReturnType<typeof feedOf>["consume"]> | undefined;
      let refused: unknown;
      try {
        c = feedOf(store, "me").consume("hooks\u0000v2", (e) => void seen.push(e.seq), {
          pollMs: 20,
          onStoreError: (e) => errors.push(e.message),
        });
      } catch (error) {
        refused = error;
      }
      await sleep(300);
      await c?.stop();
      // Either refused up front (a validation error), or it works. Observed: neither.
      expect(refused !== undefined || seen.length === 2).toBe(true);
    },
  );
});

describe("consumer wake-ups", () => {
  test("a consumer standing by for another holder is not turned into a fast poll by local steps", async () => {
    const store = createMemoryStore();
    await fill(store, 1);
    const holder = feedOf(store, "holder").consume("n", () => {}, {
      pollMs: 600_000,
      leaseMs: 60_000,
    });
    cleanups.push(() => holder.stop());
    while (!holder.holding) await sleep(5);
    const { feed, step } = feedWithSteps(store, "standby");
    const claim = store.claimConsumer.bind(store);
    let claims = 0;
    store.claimConsumer = async (...args) => {
      claims += 1;
      return claim(...args);
    };
    const standby = feed.consume("n", () => {}, { pollMs: 600_000, leaseMs: 60_000 });
    cleanups.push(() => standby.stop());
    while (claims < 1) await sleep(5);
    for (let i = 0; i < 5; i++) {
      step();
      await sleep(20);
    }
    await sleep(500);
    // The first claim, and at most one per wake-up (each cuts its nap to the gather time).
    expect(claims).toBeLessThanOrEqual(6);
    expect(standby.holding).toBe(false);
  });

  test("a local step saved while the holder reads is not lost: the next nap is the gather time, not the poll", async () => {
    const store = createMemoryStore();
    await fill(store, 1);
    const { feed, step } = feedWithSteps(store, "wake-test");
    // A read that takes its lines, then is slow to hand them back: a line saved meanwhile
    // (and the step's wake-up) falls after what it read.
    const read = store.readJournal.bind(store);
    let slowRead: (() => Promise<void>) | undefined;
    store.readJournal = async (after, limit) => {
      const lines = await read(after, limit);
      await slowRead?.();
      return lines;
    };
    const seen: number[] = [];
    const consumer = feed.consume(
      "waking",
      (event) => {
        seen.push(event.seq);
      },
      { pollMs: 600_000 },
    );
    cleanups.push(() => consumer.stop());
    while (seen.length < 1) await sleep(5);
    // Caught up and napping on a ten-minute poll.
    await sleep(50);
    slowRead = async () => {
      slowRead = undefined;
      await store.create(newPayout("k2"), line(null, "created.queued", "PAY"));
      step();
      await sleep(30);
    };
    step();
    const deadline = Date.now() + 5_000;
    while (seen.length < 2 && Date.now() < deadline) await sleep(5);
    expect(seen).toEqual([1, 2]);
  });

  test("stop() during a read returns at once, not after the nap that read would have led to", async () => {
    const store = createMemoryStore();
    await fill(store, 1);
    const feed = feedOf(store, "stop-test");
    const read = store.readJournal.bind(store);
    let emptyRead!: () => void;
    const reachedEmptyRead = new Promise<void>((resolve) => {
      emptyRead = resolve;
    });
    store.readJournal = async (after, limit) => {
      const lines = await read(after, limit);
      if (lines.length === 0) emptyRead();
      await sleep(30);
      return lines;
    };
    const consumer = feed.consume("stopping", () => {}, { pollMs: 600_000 });
    cleanups.push(() => consumer.stop());
    // Caught up; stopped while an empty read is on its way back (it then naps ten minutes).
    await reachedEmptyRead;
    const stopping = consumer.stop().then(() => "stopped");
    const late = sleep(2_000).then(() => "still waiting");
    expect(await Promise.race([stopping, late])).toBe("stopped");
  });

  test("a consumer given a signal aborted already never holds the name and is done at once", async () => {
    const store = createMemoryStore();
    await fill(store, 1);
    const feed = feedOf(store, "aborted");
    const seen: number[] = [];
    const consumer = feed.consume("aborted", (event) => void seen.push(event.seq), {
      pollMs: 600_000,
      signal: AbortSignal.abort(),
    });
    cleanups.push(() => consumer.stop());
    const late = sleep(2_000).then(() => "still running");
    expect(await Promise.race([consumer.done.then(() => "done"), late])).toBe("done");
    expect(seen).toEqual([]);
    expect(await store.consumers()).toEqual([]);
  });
});
