import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type pg from "pg";
import { afterEach, describe, expect, test } from "vitest";
import type { Payout, Payouts, PayoutsOptions, Probe } from "../../src/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createPostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { testPostgres } from "../helpers/postgres.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";

const fast = { ledgerIntervalMs: 5, clock: "simulated" as const };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The shop's own database file, with its orders table; the payouts store shares it. */
function shopDatabase(): Database.Database {
  const path = join(tmpdir(), `pi-shop-${process.pid}-${Math.random().toString(36).slice(2)}.db`);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec(
    "CREATE TABLE orders (id TEXT PRIMARY KEY, status TEXT NOT NULL, refunds INTEGER NOT NULL DEFAULT 0, txid TEXT)",
  );
  cleanups.push(() => {
    db.close();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
  });
  return db;
}

/** The shop's hook: marks the order as the payout ended, in the payout's own transaction. */
const markOrder = (payout: Payout, tx: Database.Database) => {
  const order = payout.metadata.order as string;
  if (payout.state === "completed") {
    tx.prepare(
      "UPDATE orders SET status = 'refunded', refunds = refunds + 1, txid = ? WHERE id = ?",
    ).run(payout.txid, order);
  } else {
    tx.prepare("UPDATE orders SET status = ? WHERE id = ?").run(`refund ${payout.state}`, order);
  }
};

/** The shop's refund: the order marked "refunding" and its payout, in one transaction. */
function refund(payouts: Payouts, db: Database.Database, order: string, uid: string): void {
  db.transaction(() => {
    db.prepare("INSERT INTO orders (id, status) VALUES (?, 'refunding')").run(order);
    void payouts.enqueue(
      { key: `refund-${order}`, uid, amount: "2", memo: "Refund", metadata: { order } },
      { tx: db },
    );
  })();
}

const orderOf = (db: Database.Database, id: string) =>
  db.prepare("SELECT * FROM orders WHERE id = ?").get(id) as
    | { id: string; status: string; refunds: number; txid: string | null }
    | undefined;

/**
 * One refund per await point of a payout's path: a runtime takes the order and its payout in
 * (`take`), is crashed at that point (its probe hangs, it is abandoned), and a second runtime
 * resumes; the payout must then be completed and the order refunded once, with its txid.
 * Returns the points struck, in path order.
 */
async function crashAtEveryAwaitPoint(
  runtime: (options: Partial<PayoutsOptions>) => Payouts,
  take: (payouts: Payouts, order: string) => Promise<void>,
  orderRow: (order: string) => unknown,
): Promise<string[]> {
  const points: string[] = [];
  for (let crashAt = 1; ; crashAt++) {
    const order = `crash-${crashAt}`;
    let seen = 0;
    let crashedAt: string | undefined;
    const probe: Probe = async (point) => {
      if (point.key !== `refund-${order}`) return;
      seen += 1;
      if (seen === crashAt) {
        crashedAt = `${point.point} ${"effect" in point ? point.effect : point.event}`;
        await new Promise(() => {});
      }
    };
    const first = runtime({ probe });
    await take(first, order);
    const driving = first.resume().catch(() => undefined);
    await Promise.race([driving, eventually(() => crashedAt !== undefined)]);
    await first.close({ abandon: true });
    if (crashedAt === undefined) return points;
    points.push(crashedAt);

    const second = runtime({});
    // Nothing to resume if the crash came after the final save.
    await second.resume();
    const payout = (await second.get(`refund-${order}`))!;
    expect(payout.state, `crash at ${crashedAt}`).toBe("completed");
    expect(await orderRow(order), `crash at ${crashedAt}`).toEqual({
      id: order,
      status: "refunded",
      refunds: 1,
      txid: payout.txid,
    });
    await second.close();
  }
}

describe("onSettled and enqueue({ tx }) on SQLite, sharing the host's database", () => {
  test("the order and its payout are stored together, and the order is marked in the payout's final save", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    const store = createSqliteStore({ database: db });
    const payouts = testPayouts(sandbox, { store, onSettled: markOrder });
    refund(payouts, db, "o-1", sandbox.users[0]!.uid);
    expect(orderOf(db, "o-1")?.status).toBe("refunding");
    const [payout] = await payouts.resume();
    expect(payout).toMatchObject({ key: "refund-o-1", state: "completed" });
    expect(orderOf(db, "o-1")).toEqual({
      id: "o-1",
      status: "refunded",
      refunds: 1,
      txid: payout!.txid,
    });
    expectPaidAtMostOnce(sandbox, [payout!]);
  });

  test("a host transaction that rolls back leaves neither the order nor the payout", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    const payouts = testPayouts(sandbox, { store: createSqliteStore({ database: db }) });
    expect(() =>
      db.transaction(() => {
        db.prepare("INSERT INTO orders (id, status) VALUES ('o-2', 'refunding')").run();
        void payouts.enqueue(
          { key: "refund-o-2", uid: sandbox.users[0]!.uid, amount: "2", memo: "m" },
          { tx: db },
        );
        throw new Error("the shop changed its mind");
      })(),
    ).toThrow("changed its mind");
    expect(orderOf(db, "o-2")).toBeUndefined();
    expect(await payouts.get("refund-o-2")).toBeUndefined();
    expect(await payouts.events.read()).toEqual([]);
  });

  test("a refused enqueue throws inside the host's transaction, so the order rolls back too", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    const payouts = testPayouts(sandbox, { store: createSqliteStore({ database: db }) });
    const uid = sandbox.users[0]!.uid;
    refund(payouts, db, "o-3", uid);
    // The same key for another amount, and a bad amount: each throws where it is called.
    for (const args of [
      { key: "refund-o-3", uid, amount: "9", memo: "m" },
      { key: "refund-o-4", uid, amount: "-1", memo: "m" },
    ]) {
      expect(() =>
        db.transaction(() => {
          db.prepare("INSERT INTO orders (id, status) VALUES ('o-4', 'refunding')").run();
          void payouts.enqueue(args, { tx: db });
        })(),
      ).toThrow(expect.objectContaining({ name: "ValidationError" }));
    }
    expect(orderOf(db, "o-4")).toBeUndefined();
    expect((await payouts.list()).map((p) => p.key)).toEqual(["refund-o-3"]);
    // A handle of another database is not a transaction of this store.
    const other = new Database(":memory:");
    expect(() => payouts.enqueue({ key: "x", uid, amount: "1", memo: "m" }, { tx: other })).toThrow(
      /store's own better-sqlite3 database/,
    );
    other.close();
  });

  test("a hook that throws rolls the final save back, is visible and journaled, and is retried until it succeeds", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    let failures = 2;
    const payouts = testPayouts(sandbox, {
      store: createSqliteStore({ database: db }),
      backoff: { baseDelayMs: 60, maxDelayMs: 60 },
      onSettled: (payout, tx) => {
        markOrder(payout, tx);
        if (failures > 0) {
          failures -= 1;
          throw new Error("orders table locked");
        }
      },
    });
    refund(payouts, db, "o-5", sandbox.users[0]!.uid);
    const resumed = payouts.resume();
    await eventually(async () => (await payouts.get("refund-o-5"))?.hookFailure != null);
    const stuck = await payouts.get("refund-o-5");
    expect(stuck).toMatchObject({
      state: "txStored",
      atRest: false,
      hookFailure: { attempts: 1, error: { code: "ON_SETTLED_FAILED" } },
    });
    expect(stuck!.hookFailure!.error.message).toContain("orders table locked");
    // The hook's own write went back with the save.
    expect(orderOf(db, "o-5")?.status).toBe("refunding");

    const [payout] = await resumed;
    expect(payout).toMatchObject({ state: "completed", hookFailure: null });
    expect(orderOf(db, "o-5")).toMatchObject({ status: "refunded", refunds: 1 });
    const events = await payouts.events.read();
    const types = events.map((e) => `${e.type}:${e.step.event}`);
    expect(types.filter((t) => t.endsWith("onSettled.error"))).toHaveLength(2);
    expect(types.filter((t) => t.startsWith("payout.completed"))).toHaveLength(1);
    expect(
      events.find((e) => e.step.event === "onSettled.error")?.payout?.hookFailure,
    ).toMatchObject({
      attempts: 1,
    });
  });

  test("with a crash at every await point, the orders and the payouts agree exactly", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    const uid = sandbox.users[0]!.uid;
    const runtime = (options: Partial<PayoutsOptions>) =>
      testPayouts(sandbox, {
        store: createSqliteStore({ database: db }),
        owner: "shop",
        onSettled: markOrder,
        ...options,
      });
    const points = await crashAtEveryAwaitPoint(
      runtime,
      async (first, order) => refund(first, db, order, uid),
      (order) => orderOf(db, order),
    );
    // Every point of a payout's path was struck: the effects and the saves around them.
    expect(points.length).toBeGreaterThanOrEqual(16);
    // The final save, with the hook inside it: before it, and after it committed.
    expect(points).toContain("save:start completePiPayment.done");
    expect(points).toContain("save:end completePiPayment.done");
    // Every order refunded once, and every refund paid once.
    const all = await runtime({}).list();
    expect(all.every((p) => p.state === "completed")).toBe(true);
    expectPaidAtMostOnce(sandbox, all);
    const orders = db.prepare("SELECT status, refunds FROM orders").all();
    expect(orders).toHaveLength(points.length + 1);
    expect(orders.every((o) => (o as { refunds: number }).refunds === 1)).toBe(true);
  }, 120_000);

  test("onSettled is refused where it cannot be kept: an async function on SQLite, or the memory store", async () => {
    const sandbox = await testSandbox(fast);
    const db = shopDatabase();
    expect(() =>
      testPayouts(sandbox, {
        store: createSqliteStore({ database: db }),
        onSettled: async () => {},
      }),
    ).toThrow(/must be synchronous on SQLite/);
    expect(() => testPayouts(sandbox, { store: createMemoryStore(), onSettled: () => {} })).toThrow(
      /needs a SQL store/,
    );
    const memory = testPayouts(sandbox, { store: createMemoryStore() });
    await expect(
      memory.enqueue({ key: "k", uid: sandbox.users[0]!.uid, amount: "1", memo: "m" }, { tx: {} }),
    ).rejects.toThrow(/memory store has no transactions/);
  });
});

describe("onSettled and enqueue({ tx }) on PostgreSQL, in the host's client", () => {
  async function shop() {
    const { pool, schema, cleanup } = await testPostgres();
    cleanups.push(cleanup);
    const store = createPostgresStore({ pool, schema });
    // The store makes its schema on first use; the shop's table goes beside it.
    await store.list();
    await pool.query(
      `CREATE TABLE "${schema}".orders (id TEXT PRIMARY KEY, status TEXT NOT NULL, refunds INTEGER NOT NULL DEFAULT 0, txid TEXT)`,
    );
    const order = async (id: string) =>
      (await pool.query(`SELECT * FROM "${schema}".orders WHERE id = $1`, [id])).rows[0];
    return { pool, schema, store, order };
  }

  test("the order and its payout commit together, and the final save marks the order", async () => {
    const sandbox = await testSandbox(fast);
    const { pool, schema, store, order } = await shop();
    let failures = 1;
    const payouts = testPayouts(sandbox, {
      store,
      backoff: { baseDelayMs: 20, maxDelayMs: 20 },
      onSettled: async (payout, tx: pg.PoolClient) => {
        await tx.query(
          `UPDATE "${schema}".orders SET status = 'refunded', refunds = refunds + 1, txid = $1 WHERE id = $2`,
          [payout.txid, payout.metadata.order],
        );
        if (failures-- > 0) throw new Error("audit service down");
      },
    });
    const uid = sandbox.users[0]!.uid;
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`INSERT INTO "${schema}".orders (id, status) VALUES ('p-1', 'refunding')`);
      await payouts.enqueue(
        { key: "refund-p-1", uid, amount: "2", memo: "m", metadata: { order: "p-1" } },
        { tx: client },
      );
      await client.query("COMMIT");
      // Rolled back: neither exists.
      await client.query("BEGIN");
      await client.query(`INSERT INTO "${schema}".orders (id, status) VALUES ('p-2', 'refunding')`);
      await payouts.enqueue(
        { key: "refund-p-2", uid, amount: "2", memo: "m", metadata: { order: "p-2" } },
        { tx: client },
      );
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    expect(await payouts.get("refund-p-2")).toBeUndefined();
    expect(await order("p-2")).toBeUndefined();

    const [payout] = await payouts.resume();
    expect(payout).toMatchObject({ key: "refund-p-1", state: "completed", hookFailure: null });
    expect(await order("p-1")).toMatchObject({
      status: "refunded",
      refunds: 1,
      txid: payout!.txid,
    });
    const journal = await payouts.journal("refund-p-1");
    expect(journal.filter((j) => j.event === "onSettled.error")).toHaveLength(1);
    expectPaidAtMostOnce(sandbox, [payout!]);
  }, 60_000);

  test("with a crash at every await point, the orders and the payouts agree exactly", async () => {
    const sandbox = await testSandbox(fast);
    const { pool, schema, store, order } = await shop();
    const uid = sandbox.users[0]!.uid;
    const runtime = (options: Partial<PayoutsOptions>) =>
      testPayouts(sandbox, {
        store,
        owner: "shop",
        onSettled: async (payout, tx: pg.PoolClient) => {
          await tx.query(
            `UPDATE "${schema}".orders SET status = 'refunded', refunds = refunds + 1, txid = $1 WHERE id = $2`,
            [payout.txid, payout.metadata.order],
          );
        },
        ...options,
      });
    const points = await crashAtEveryAwaitPoint(
      runtime,
      async (first, id) => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          await client.query(
            `INSERT INTO "${schema}".orders (id, status) VALUES ($1, 'refunding')`,
            [id],
          );
          await first.enqueue(
            { key: `refund-${id}`, uid, amount: "2", memo: "m", metadata: { order: id } },
            { tx: client },
          );
          await client.query("COMMIT");
        } finally {
          client.release();
        }
      },
      order,
    );
    expect(points.length).toBeGreaterThanOrEqual(16);
    expect(points).toContain("save:start completePiPayment.done");
    expect(points).toContain("save:end completePiPayment.done");
  }, 180_000);
});
