import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { isConflictError, parseAmount } from "../../src/domain/index.js";
import type { PersistedPayoutSnapshot } from "../../src/machines/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createPostgresStore } from "../../src/storage/postgres.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import type { PayoutStore, PayoutWrite } from "../../src/storage/types.js";
import { realPostgresUrl, testPostgres } from "../helpers/postgres.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-races-"));
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const write = (detail: string, extra: Partial<PayoutWrite> = {}): PayoutWrite => ({
  snapshot: {
    status: "active",
    value: detail,
    historyValue: {},
    context: {},
    children: {},
  } as unknown as PersistedPayoutSnapshot,
  state: "created",
  stateDetail: detail,
  paymentId: null,
  txid: null,
  atRest: false,
  holdsSlot: true,
  at: new Date().toISOString(),
  ...extra,
});
const line = (to: string, owner: string) => ({
  at: new Date().toISOString(),
  from: null,
  to,
  event: "e",
  details: {},
  owner,
});
const intent = { uid: "u", amount: parseAmount("1"), memo: "m", metadata: {} };

/** Several independent connections to one store, as several processes would have. */
type Connections = (count: number, now?: () => number) => Promise<PayoutStore[]>;

const kinds: Array<[string, Connections]> = [
  [
    "SQLite file, one connection per worker",
    async (count, now) => {
      const path = join(dir, `sqlite-${Math.random().toString(36).slice(2)}.db`);
      return Array.from({ length: count }, () => createSqliteStore(now ? { path, now } : { path }));
    },
  ],
  [
    realPostgresUrl ? "PostgreSQL, one pool per worker" : "PGlite",
    async (count, now) => {
      if (realPostgresUrl) {
        const schema = `r_${Math.random().toString(36).slice(2, 10)}`;
        const pools = Array.from(
          { length: count },
          () => new pg.Pool({ connectionString: realPostgresUrl, max: 2 }),
        );
        cleanups.push(async () => {
          await pools[0]!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await Promise.all(pools.map((p) => p.end()));
        });
        return pools.map((pool) =>
          createPostgresStore({ pool: pool as never, schema, ...(now ? { now } : {}) }),
        );
      }
      const { pool, schema, cleanup } = await testPostgres();
      cleanups.push(cleanup);
      return Array.from({ length: count }, () =>
        createPostgresStore({ pool, schema, ...(now ? { now } : {}) }),
      );
    },
  ],
];

describe.each(kinds)("races on %s", (_kind, connect) => {
  test("workers claiming at the same time never get the same payout", async () => {
    const workers = await connect(6);
    for (let i = 0; i < 20; i++)
      await workers[0]!.create(
        { key: `p${i}`, intent, write: write("created.queued") },
        line("created.queued", "q"),
      );
    const claimed: string[] = [];
    await Promise.all(
      workers.map(async (store, w) => {
        for (
          let payout = await store.claimNext(`w${w}`, 60_000);
          payout;
          payout = await store.claimNext(`w${w}`, 60_000)
        ) {
          claimed.push(payout.key);
        }
      }),
    );
    expect(claimed.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`).sort());
    await Promise.all(workers.map((s) => s.close()));
  });

  test("two workers racing for one payout: one claims it; only its saves pass", async () => {
    const [a, b] = await connect(2);
    await a!.create(
      { key: "x", intent, write: write("created.queued") },
      line("created.queued", "q"),
    );
    const [ca, cb] = await Promise.all([a!.claim("x", "A", 60_000), b!.claim("x", "B", 60_000)]);
    expect([ca, cb].filter(Boolean)).toHaveLength(1);
    const [winner, loser] = ca ? (["A", "B"] as const) : (["B", "A"] as const);
    const saves = await Promise.allSettled([
      a!.save("x", 1, write("created.creating"), line("created.creating", "A"), { owner: "A" }),
      b!.save("x", 1, write("created.creating"), line("created.creating", "B"), { owner: "B" }),
    ]);
    const passed = saves
      .map((s, i) => (s.status === "fulfilled" ? ["A", "B"][i] : undefined))
      .filter(Boolean);
    expect(passed).toEqual([winner]);
    const refused = saves.find((s) => s.status === "rejected") as PromiseRejectedResult;
    expect(isConflictError(refused.reason)).toBe(true);
    expect((await a!.journal("x")).map((j) => j.owner)).toEqual(["q", winner]);
    void loser;
    await Promise.all([a!.close(), b!.close()]);
  });

  test("any interleaving of claims, fenced saves and lease expiry lets exactly one writer per version (fast-check scheduler)", async () => {
    let time = 1_000_000;
    const [first, second] = await connect(2, () => time);
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.boolean(), async (s, expireBetween) => {
        const key = `k${round++}`;
        await first!.create(
          { key, intent, write: write("created.queued") },
          line("created.queued", "q"),
        );
        // A holds the lease; B waits for it to expire, then takes over. Both then try to write version 2.
        await first!.claim(key, "A", 1000);
        const results: string[] = [];
        const attempt = (store: PayoutStore, owner: string) =>
          s.schedule(Promise.resolve(owner)).then(async () => {
            if (owner === "B") {
              if (expireBetween) time += 1001;
              if (!(await store.claim(key, "B", 1000))) return;
            }
            try {
              await store.save(key, 1, write(`by.${owner}`), line(`by.${owner}`, owner), { owner });
              results.push(owner);
            } catch (error) {
              if (!isConflictError(error)) throw error;
            }
          });
        await s.waitFor(Promise.all([attempt(first!, "A"), attempt(second!, "B")]));
        expect(results).toHaveLength(1);
        const journal = await first!.journal(key);
        expect(journal.map((j) => j.version)).toEqual([1, 2]);
        expect(journal[1]!.owner).toBe(results[0]);
      }),
      { numRuns: 60 },
    );
    await Promise.all([first!.close(), second!.close()]);
  });

  test("an acquisition racing a cancel of its payout never leaves the slot to a payout that may not hold it (fast-check scheduler)", async () => {
    const [acquirer, canceller] = await connect(2);
    const cancelled = write("cancelled", { state: "cancelled", atRest: true, holdsSlot: false });
    // Real time on separate connections: the statements of both sides interleave in every way.
    const pause = async (ms: number, yields: number) => {
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      for (let i = 0; i < yields; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 8 }),
        async (s, ms, yields) => {
          const scope = `app:${round}`;
          const [a, b] = [`a${round}`, `b${round}`];
          round++;
          await acquirer!.create(
            { key: a, intent, write: write("created.queued") },
            line("created.queued", "q"),
          );
          const acquire = s
            .schedule(Promise.resolve("acquire"))
            .then(() => pause(ms, yields))
            .then(() => acquirer!.acquireSlot(scope, a));
          const cancel = s
            .schedule(Promise.resolve("cancel"))
            .then(() =>
              canceller!.save(a, 1, cancelled, line("cancelled", "c"), { releaseSlot: scope }),
            );
          await s.waitFor(Promise.all([acquire, cancel]));
          const holder = await acquirer!.slotHolder(scope);
          if (holder !== undefined) expect((await acquirer!.get(holder))?.holdsSlot).toBe(true);
          // The next payout is never left waiting for one that has ended.
          await acquirer!.create(
            { key: b, intent, write: write("created.queued") },
            line("created.queued", "q"),
          );
          expect(await canceller!.acquireSlot(scope, b)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
    await Promise.all([acquirer!.close(), canceller!.close()]);
  });
});

test("the memory store passes the same interleavings", async () => {
  let time = 0;
  const store = createMemoryStore({ now: () => time });
  await fc.assert(
    fc.asyncProperty(fc.scheduler(), async (s) => {
      const key = `m${time}`;
      time += 10_000;
      await store.create(
        { key, intent, write: write("created.queued") },
        line("created.queued", "q"),
      );
      await store.claim(key, "A", 1000);
      const won: string[] = [];
      const tryAs = (owner: string, expire: boolean) =>
        s.schedule(Promise.resolve()).then(async () => {
          if (expire) time += 1001;
          if (!(await store.claim(key, owner, 1000))) return;
          await store.save(key, 1, write(owner), line(owner, owner), { owner }).then(
            () => won.push(owner),
            () => undefined,
          );
        });
      await s.waitFor(Promise.all([tryAs("A", false), tryAs("B", true)]));
      expect(won).toHaveLength(1);
    }),
    { numRuns: 100 },
  );
});
