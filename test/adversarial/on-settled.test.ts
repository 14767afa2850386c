/**
 * Claims 3, 4, 5: onSettled exactly once, enqueue({ tx }) leaves no trace when the host rolls
 * back, secrets stay out of hook failures.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, test } from "vitest";
import type { PayoutStep } from "../../src/index.js";
import { createPostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { testPayouts } from "../helpers/payouts.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";
import { line, newPayout, pgSchema, pgUrl, sleep, write } from "./helpers.js";

const fast = { ledgerIntervalMs: 5, clock: "simulated" as const };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function shopDatabase(): Database.Database {
  const path = join(tmpdir(), `adv-shop-${process.pid}-${Math.random().toString(36).slice(2)}.db`);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE refunds (order_id TEXT NOT NULL, txid TEXT)");
  cleanups.push(() => {
    db.close();
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
  });
  return db;
}

describe("onSettled on SQLite: a promise smuggled out of a non-async function", () => {
  test("finding H1: the promise's late work runs once at most, and the step is parked with ON_SETTLED_ASYNC, not retried", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    const payouts = testPayouts(sandbox, {
      store: createSqliteStore({ database: db }),
      backoff: { baseDelayMs: 20, maxDelayMs: 20 },
      // Not `async`, so createPayouts accepts it; a helper of the host returns a promise.
      onSettled: (payout, tx: Database.Database) =>
        Promise.resolve().then(() => {
          if (payout.state === "completed") {
            tx.prepare("INSERT INTO refunds (order_id, txid) VALUES (?, ?)").run(
              "o-1",
              payout.txid,
            );
          }
        }),
    });
    await payouts.enqueue({
      key: "refund-o-1",
      uid: sandbox.users[0]!.uid,
      amount: "1",
      memo: "m",
    });
    void payouts.resume().catch(() => undefined);
    await eventually(async () => (await payouts.get("refund-o-1"))?.hookFailure != null);
    await sleep(300);
    const payout = await payouts.get("refund-o-1");
    const refunds = db.prepare("SELECT COUNT(*) AS n FROM refunds").get() as { n: number };
    // What ran after the first await could not be stopped, but it is not repeated: the step
    // is parked for an hour, with a code that says why.
    expect(refunds.n, "host writes outside the transaction").toBeLessThanOrEqual(1);
    expect(payout).toMatchObject({
      state: "txStored",
      hookFailure: { attempts: 1, error: { code: "ON_SETTLED_ASYNC" } },
    });
    const next =
      Date.parse(payout!.hookFailure!.nextAttemptAt) - Date.parse(payout!.hookFailure!.at);
    expect(next).toBe(3_600_000);
  });

  test("finding H2: a rejected promise returned there is no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", listener);
    cleanups.push(() => void process.off("unhandledRejection", listener));
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    const payouts = testPayouts(sandbox, {
      store: createSqliteStore({ database: db }),
      backoff: { baseDelayMs: 20, maxDelayMs: 20 },
      onSettled: () => Promise.reject(new Error("audit service down")),
    });
    await payouts.enqueue({ key: "k", uid: sandbox.users[0]!.uid, amount: "1", memo: "m" });
    void payouts.resume().catch(() => undefined);
    await eventually(async () => (await payouts.get("k"))?.hookFailure != null);
    await sleep(50);
    expect(unhandled.map((e) => (e as Error).message)).toEqual([]);
  });
});

describe("enqueue({ tx }) when the host rolls back", () => {
  test("finding E1, SQLite: subscribe() listeners are not told of a payout the host may roll back", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    const payouts = testPayouts(sandbox, { store: createSqliteStore({ database: db }) });
    const steps: PayoutStep[] = [];
    payouts.subscribe((s) => steps.push(s));
    expect(() =>
      db.transaction(() => {
        void payouts.enqueue(
          { key: "ghost", uid: sandbox.users[0]!.uid, amount: "5", memo: "m" },
          { tx: db },
        );
        throw new Error("rolled back");
      })(),
    ).toThrow("rolled back");
    expect(await payouts.get("ghost")).toBeUndefined();
    expect(
      steps.map((s) => `${s.key}:${s.event}`),
      "steps announced for the rolled-back payout",
    ).toEqual([]);
  });

  test.skipIf(!pgUrl)("finding E1, PostgreSQL: the same with a pg client", async () => {
    const sandbox = await testSandbox(fast);
    const { schema, pools, asPool, cleanup } = pgSchema(1, 4);
    cleanups.push(cleanup);
    const payouts = testPayouts(sandbox, {
      store: createPostgresStore({ pool: asPool(pools[0]!), schema }),
    });
    await payouts.list();
    const steps: PayoutStep[] = [];
    payouts.subscribe((s) => steps.push(s));
    const client = await pools[0]!.connect();
    await client.query("BEGIN");
    await payouts.enqueue(
      { key: "ghost", uid: sandbox.users[0]!.uid, amount: "5", memo: "m" },
      { tx: client },
    );
    await client.query("ROLLBACK");
    client.release();
    expect(await payouts.get("ghost")).toBeUndefined();
    expect(await payouts.events.read()).toEqual([]);
    expect(steps.map((s) => `${s.key}:${s.event}`)).toEqual([]);
  });

  test.skipIf(!pgUrl)(
    "finding E2: enqueue({ tx: pool }), the pool by mistake, or a client outside BEGIN, is refused before anything is written",
    async () => {
      const sandbox = await testSandbox(fast);
      const { schema, pools, asPool, cleanup } = pgSchema(1, 4);
      cleanups.push(cleanup);
      const pool = pools[0]!;
      const payouts = testPayouts(sandbox, {
        store: createPostgresStore({ pool: asPool(pool), schema }),
      });
      await payouts.list();
      await pool.query(`CREATE TABLE "${schema}".orders (id text PRIMARY KEY)`);
      const client = await pool.connect();
      let refused: unknown;
      try {
        await client.query("BEGIN");
        await client.query(`INSERT INTO "${schema}".orders VALUES ('o-9')`);
        await payouts.enqueue(
          { key: "refund-o-9", uid: sandbox.users[0]!.uid, amount: "5", memo: "m" },
          { tx: pool },
        );
        await client.query("ROLLBACK");
      } catch (error) {
        refused = error;
        await client.query("ROLLBACK");
      } finally {
        client.release();
      }
      const orders = (await pool.query(`SELECT * FROM "${schema}".orders`)).rows;
      const payout = await payouts.get("refund-o-9");
      console.log(
        `E2: refused=${String(refused)}, orders ${orders.length}, payout ${payout?.state}`,
      );
      // A refund for an order that does not exist: refused would have been right.
      expect(refused !== undefined || payout === undefined).toBe(true);
    },
  );

  test("finding E3: enqueue({ tx: db }) outside any host transaction is refused", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    const payouts = testPayouts(sandbox, { store: createSqliteStore({ database: db }) });
    expect(db.inTransaction).toBe(false);
    expect(() =>
      payouts.enqueue(
        { key: "loose", uid: sandbox.users[0]!.uid, amount: "5", memo: "m" },
        { tx: db },
      ),
    ).toThrow(/no transaction is open/);
    expect(await payouts.get("loose")).toBeUndefined();
  });
});

describe.skipIf(!pgUrl)("onSettled on PostgreSQL: a slow hook holds the payout's row", () => {
  test("finding H3: the runtime's lease renewal does not wait for a slow hook, and writes expiries from the statement's own clock", async () => {
    const { schema, pools, asPool, cleanup } = pgSchema(1, 6);
    cleanups.push(cleanup);
    const store = createPostgresStore({ pool: asPool(pools[0]!), schema });
    const lease = { owner: "A", ttlMs: 1000 };
    await store.create(newPayout("k1"), line(null, "created.queued", "PAY"), { lease });
    await store.create(newPayout("k2"), line(null, "created.queued", "PAY"), { lease });
    // k1's final save with a hook that takes 2 s (an HTTP call to the shop's ledger, say).
    const slowSave = store.save(
      "k1",
      1,
      write("completed", { atRest: true, holdsSlot: false }),
      line("created.queued", "completed", "done"),
      {
        owner: "A",
        release: true,
        within: async () => {
          await sleep(2000);
        },
      },
    );
    await sleep(100);
    const t0 = Date.now();
    const renewing = store.renewAll("A", 1000).then(async (keys) => {
      const { rows } = await pools[0]!.query<{ left: number }>(
        `SELECT EXTRACT(EPOCH FROM lease_expires_at - clock_timestamp()) * 1000 AS left FROM "${schema}".payouts WHERE key = 'k2'`,
      );
      return { keys, ms: Date.now() - t0, k2Left: Number(rows[0]?.left) };
    });
    await sleep(50);
    const t1 = Date.now();
    const otherSave = store
      .save("k2", 1, write("stored.idle"), line("created.queued", "stored.idle", "s"), {
        owner: "A",
      })
      .then(
        () => ({ ok: true, ms: Date.now() - t1 }),
        (e: Error) => ({ ok: false, ms: Date.now() - t1, error: e.message }),
      );
    const [renewed, other] = await Promise.all([renewing, otherSave, slowSave]);
    expect(renewed.ms, "renewal of the other leases waits for the hook").toBeLessThan(500);
    // Both still held: k1 is locked by its own save (which checked the lease), k2 renewed
    // for a full lease from when the statement ran.
    expect(renewed.keys.sort()).toEqual(["k1", "k2"]);
    expect(renewed.k2Left).toBeGreaterThan(800);
    expect(other).toMatchObject({ ok: true });
  });
});

describe("secrets in hook failures", () => {
  test("holds: a hook error quoting the API key and seed (message and cause) is scrubbed everywhere", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    let fail = 1;
    const payouts = testPayouts(sandbox, {
      store: createSqliteStore({ database: db }),
      backoff: { baseDelayMs: 20, maxDelayMs: 20 },
      onSettled: () => {
        if (fail-- > 0) {
          throw new Error(
            `GET https://api.shop/x?key=${sandbox.apiKey}&seed=${sandbox.walletSeed} failed`,
            {
              cause: {
                headers: { Authorization: `Key ${sandbox.apiKey}` },
                seed: sandbox.walletSeed,
              },
            },
          );
        }
      },
    });
    const steps: PayoutStep[] = [];
    payouts.subscribe((s) => steps.push(s));
    const [payout] = await (async () => {
      await payouts.enqueue({ key: "k", uid: sandbox.users[0]!.uid, amount: "1", memo: "m" });
      return payouts.resume();
    })();
    expect(payout!.state).toBe("completed");
    const everything = JSON.stringify([
      await payouts.events.read({ limit: 1000 }),
      await payouts.journal("k"),
      db.prepare("SELECT * FROM payouts").all(),
      db.prepare("SELECT * FROM journal").all(),
      steps,
    ]);
    expect(everything).toContain("onSettled.error");
    expect(everything).not.toContain(sandbox.apiKey);
    expect(everything).not.toContain(sandbox.walletSeed);
  });
});
