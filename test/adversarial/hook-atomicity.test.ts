/**
 * Claim 3 (holds): the host's write in `within` commits with the save or not at all; a save
 * that conflicts never runs it; a lease that ends while a slow hook runs on PostgreSQL does
 * not let another process in before the save commits.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import type pg from "pg";
import { afterEach, describe, expect, test } from "vitest";
import { createPostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { line, newPayout, pgSchema, pgUrl, sleep, write } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const done = () => write("completed", { atRest: true, holdsSlot: false });

describe("within: atomic with the save", () => {
  test("holds (SQLite): a conflicting save (version, lease) never calls within; a throwing one leaves nothing", async () => {
    const path = join(
      tmpdir(),
      `adv-hook-${process.pid}-${Math.random().toString(36).slice(2)}.db`,
    );
    cleanups.push(() => {
      for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
    });
    const db = new Database(path);
    cleanups.push(() => {
      db.close();
    });
    db.exec("CREATE TABLE host (n INTEGER)");
    const store = createSqliteStore({ database: db });
    await store.create(newPayout("k"), line(null, "created.queued", "PAY"), {
      lease: { owner: "A", ttlMs: 60_000 },
    });
    let calls = 0;
    const within = (tx: unknown) => {
      calls += 1;
      (tx as Database.Database).prepare("INSERT INTO host VALUES (1)").run();
    };
    await expect(
      store.save("k", 7, done(), line("x", "completed", "e"), { owner: "A", within }),
    ).rejects.toThrow(/changed since/);
    await expect(
      store.save("k", 1, done(), line("x", "completed", "e"), { owner: "B", within }),
    ).rejects.toThrow(/lease/);
    expect(calls).toBe(0);
    await expect(
      store.save("k", 1, done(), line("x", "completed", "e"), {
        owner: "A",
        within: (tx) => {
          within(tx);
          throw new Error("no");
        },
      }),
    ).rejects.toThrow("no");
    expect(db.prepare("SELECT COUNT(*) AS n FROM host").get()).toEqual({ n: 0 });
    expect((await store.get("k"))!.version).toBe(1);
    expect((await store.journal("k")).length).toBe(1);
  });

  test.skipIf(!pgUrl)(
    "holds (PostgreSQL): a lease that ends during a slow hook: another claimant waits, then finds the payout at rest",
    async () => {
      const { schema, pools, asPool, cleanup } = pgSchema(2, 4);
      cleanups.push(cleanup);
      const a = createPostgresStore({ pool: asPool(pools[0]!), schema });
      const b = createPostgresStore({ pool: asPool(pools[1]!), schema });
      await a.create(newPayout("k"), line(null, "created.queued", "PAY"), {
        lease: { owner: "A", ttlMs: 300 },
      });
      await pools[0]!.query(`CREATE TABLE "${schema}".host (n int)`);
      const saving = a.save("k", 1, done(), line("x", "completed", "e"), {
        owner: "A",
        release: true,
        within: async (tx) => {
          await (tx as pg.PoolClient).query(`INSERT INTO "${schema}".host VALUES (1)`);
          await sleep(1000);
        },
      });
      await sleep(500); // A's lease has ended in the database
      const claimed = await b.claim("k", "B", 10_000);
      await saving;
      const record = await b.get("k");
      // B's claim waited for A's commit; the payout it may now hold is at rest: nothing to run.
      expect(record!.atRest).toBe(true);
      expect(record!.version).toBe(2);
      const host = await pools[0]!.query(`SELECT count(*)::int AS n FROM "${schema}".host`);
      expect(host.rows[0].n).toBe(1);
      console.log(
        `claim by B after A's lease ended mid-hook: ${claimed}; record ${record!.state} v${record!.version}, lease ${JSON.stringify(record!.lease)}`,
      );
    },
  );
});
