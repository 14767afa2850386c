import pg from "pg";
import { describe, expect, test } from "vitest";
import { createWorker, type Payout, type Payouts } from "../../src/index.js";
import { createPostgresStore, type PostgresPool } from "../../src/storage/postgres.js";
import type { PayoutStore } from "../../src/storage/types.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { realPostgresUrl, testPostgres } from "../helpers/postgres.js";
import { testSandbox } from "../helpers/sandbox.js";

/**
 * Cancel, retry, workers' claims and slot acquisitions racing on real concurrent
 * PostgreSQL connections (PGlite, which has one connection, where no server is configured).
 */

/** A store on its own pool: each runtime its own connections, as separate processes have. */
async function storeOnOwnPool(schema: string, shared: PostgresPool): Promise<PayoutStore> {
  const pool = realPostgresUrl
    ? (new pg.Pool({ connectionString: realPostgresUrl, max: 6 }) as unknown as PostgresPool)
    : shared;
  const store = createPostgresStore({ pool, schema });
  const close = store.close.bind(store);
  return {
    ...store,
    close: async () => {
      await close();
      if (pool !== shared) await pool.end?.();
    },
  };
}

/** Every payout at rest, with a deadline that names the stuck ones. */
async function untilAtRest(payouts: Payouts, keys: string[], ms = 60_000): Promise<Payout[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const all = await Promise.all(keys.map(async (key) => (await payouts.get(key))!));
    if (all.every((p) => p.atRest)) return all;
    if (Date.now() > deadline) {
      const stuck = all.filter((p) => !p.atRest).map((p) => `${p.key} in ${p.stateDetail}`);
      throw new Error(`not at rest in time: ${stuck.join(", ")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe(`races on ${realPostgresUrl ? "real PostgreSQL connections" : "PGlite"}`, () => {
  test("200 payouts each cancelled as it is paid: none is paid twice, and no slot is left to one that ended", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 5 });
    const { pool, schema, cleanup } = await testPostgres();
    const store = await storeOnOwnPool(schema, pool);
    try {
      const payouts = testPayouts(sandbox, { store });
      const uid = sandbox.users[0]!.uid;
      const keys = Array.from({ length: 200 }, (_, i) => `race-${i}`);
      const results = await Promise.all(
        keys.map(async (key, i) => {
          const paying = payouts.pay({ key, uid, amount: 1 + (i % 3), memo: "race" });
          // The cancel lands while the payout acquires Pi's slot, or just after.
          await new Promise((resolve) => setTimeout(resolve, i % 4));
          const cancelled = await payouts.cancel(key).catch((error: unknown) => error);
          return { paid: await paying, cancelled };
        }),
      );
      const ended = results.map((r) => r.paid);
      expect(ended.every((p) => p.state === "completed" || p.state === "cancelled")).toBe(true);
      expectPaidAtMostOnce(sandbox, ended);
      const holder = await store.slotHolder(`app:${sandbox.walletAddress}`);
      if (holder !== undefined) expect((await store.get(holder))?.holdsSlot).toBe(true);
      // The app is not frozen: the next payout goes through.
      const after = await payouts.pay({ key: "after", uid, amount: 1, memo: "after" });
      expect(after.state).toBe("completed");
      console.log(
        `cancel/pay races: ${ended.filter((p) => p.state === "cancelled").length} cancelled, ${ended.filter((p) => p.state === "completed").length} completed, slot left to an ended payout: 0`,
      );
    } finally {
      await store.close();
      await cleanup();
    }
  }, 120_000);

  test("two workers, cancels and retries from a third runtime race on one queue: each payout paid at most once, all at rest", async () => {
    // Too little in the wallet for some payouts: they fail, and are retried after a top-up.
    const sandbox = await testSandbox({ ledgerIntervalMs: 5, walletBalance: "40", users: 4 });
    const { pool, schema, cleanup } = await testPostgres();
    const stores = await Promise.all([1, 2, 3].map(() => storeOnOwnPool(schema, pool)));
    try {
      const [one, two, operator] = stores.map((store) =>
        testPayouts(sandbox, { store, leaseMs: 2_000 }),
      ) as [Payouts, Payouts, Payouts];
      const keys = Array.from({ length: 40 }, (_, i) => `q-${i}`);
      for (const [i, key] of keys.entries()) {
        await operator.enqueue({
          key,
          uid: sandbox.users[i % 4]!.uid,
          amount: i % 7 === 0 ? 25 : 1,
          memo: "queued",
        });
      }
      const workers = [
        createWorker(one, { concurrency: 4 }),
        createWorker(two, { concurrency: 4 }),
      ];
      // The operator cancels some while the workers claim them; PAYOUT_BUSY is the honest
      // answer while another process drives one.
      const answers = await Promise.all(
        keys
          .filter((_, i) => i % 3 === 0)
          .map((key) =>
            operator.cancel(key).then(
              (p) => p.state,
              (error: { code?: string }) => error.code,
            ),
          ),
      );
      expect(
        answers.every((a) => ["cancelled", "completed", "failed", "PAYOUT_BUSY"].includes(a!)),
      ).toBe(true);
      await untilAtRest(operator, keys);
      sandbox.fund(sandbox.walletAddress, "1000");
      for (const payout of await operator.list({ state: "failed" })) {
        await operator.retry(payout.key).catch((error: { code?: string }) => {
          if (error.code !== "PAYOUT_BUSY" && error.code !== "NOT_FAILED") throw error;
        });
      }
      const ended = await untilAtRest(operator, keys);
      await Promise.all(workers.map((w) => w.stop()));
      expectPaidAtMostOnce(sandbox, ended);
      for (const scope of [`app:${sandbox.walletAddress}`]) {
        const holder = await stores[0]!.slotHolder(scope);
        if (holder !== undefined) expect((await stores[0]!.get(holder))?.holdsSlot).toBe(true);
      }
      const outcomes = new Map<string, number>();
      for (const p of ended) outcomes.set(p.state, (outcomes.get(p.state) ?? 0) + 1);
      console.log(`queue races: ${[...outcomes].map(([s, n]) => `${s} ${n}`).join(", ")}`);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await cleanup();
    }
  }, 180_000);
});
