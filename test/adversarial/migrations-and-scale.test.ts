/**
 * Claim 6: pre-feed databases migrate with their journal in the feed; scale cliffs.
 */
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, test } from "vitest";
import { toPayoutEvent } from "../../src/events/payout-event.js";
import { migrations } from "../../src/storage/postgres/migrations.js";
import { createPostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { sqliteMigrations } from "../../src/storage/sqlite-migrations.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { line, newPayout, pgSchema, pgUrl, write } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const oldLine = (key: string, event: string) => [
  key,
  "2026-01-01T00:00:00.000Z",
  null,
  "created.queued",
  event,
  "{}",
  1,
  "old",
];

describe("migrating a pre-feed database", () => {
  test("holds: SQLite at user_version 3 with a journal: old lines keep their seq as position, events with payout null", async () => {
    const path = join(tmpdir(), `adv-mig-${process.pid}-${Math.random().toString(36).slice(2)}.db`);
    cleanups.push(() => {
      for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
    });
    const old = new Database(path);
    for (const m of sqliteMigrations.slice(0, 3)) old.exec(m);
    old.pragma("user_version = 3");
    const ins = old.prepare(
      "INSERT INTO journal (key, at, from_state, to_state, event, details, version, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    for (const k of ["a", "b", "c"]) ins.run(...oldLine(k, "PAY"));
    old.close();
    const store = createSqliteStore({ path });
    cleanups.push(() => store.close());
    await store.create(newPayout("new"), line(null, "created.queued", "PAY"));
    const lines = await store.readJournal(0, 10);
    expect(lines.map((l) => [l.key, l.position])).toEqual([
      ["a", 1],
      ["b", 2],
      ["c", 3],
      ["new", 4],
    ]);
    expect(toPayoutEvent(lines[0]!).payout).toBeNull();
  });

  test.skipIf(!pgUrl)(
    "holds: PostgreSQL at migration 4 with a journal (and an uncommitted old-version line) migrates into the feed in order",
    async () => {
      const { schema, pools, asPool, cleanup } = pgSchema(2, 4);
      cleanups.push(cleanup);
      const s = `"${schema}"`;
      await pools[0]!.query(`CREATE SCHEMA ${s}`);
      await pools[0]!.query(
        `CREATE TABLE ${s}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      for (const [i, sql] of migrations(schema).slice(0, 4).entries()) {
        for (const st of sql
          .split(";")
          .map((x) => x.trim())
          .filter(Boolean))
          await pools[0]!.query(st);
        await pools[0]!.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [i + 1]);
      }
      const insert = `INSERT INTO ${s}.journal (key, at, from_state, to_state, event, details, version, owner) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;
      for (const k of ["a", "b"]) await pools[0]!.query(insert, oldLine(k, "PAY"));
      // An old-version process's transaction, open across the deploy: its line has a seq now.
      const oldProcess = await pools[1]!.connect();
      await oldProcess.query("BEGIN");
      await oldProcess.query(insert, oldLine("late", "PAY"));
      await pools[0]!.query(insert, oldLine("c", "PAY"));
      // The new version starts, migrates (#5)... the old transaction is still open; would the
      // migration wait on it? (ALTER TABLE needs an exclusive lock: yes, it waits.)
      const store = createPostgresStore({ pool: asPool(pools[0]!), schema });
      const migrating = store.list();
      const first = await Promise.race([
        migrating.then(() => "migrated"),
        new Promise((r) => setTimeout(() => r("waiting on the old transaction"), 500)),
      ]);
      await oldProcess.query("COMMIT");
      oldProcess.release();
      await migrating;
      await store.create(newPayout("new"), line(null, "created.queued", "PAY"));
      const lines = await store.readJournal(0, 10);
      console.log(
        `PG migration: ${first}; feed ${JSON.stringify(lines.map((l) => [l.key, l.seq, l.position]))}`,
      );
      expect(lines.map((l) => l.key).sort()).toEqual(["a", "b", "c", "late", "new"]);
      expect(new Set(lines.map((l) => l.position)).size).toBe(5);
    },
  );
});

describe.skipIf(!pgUrl)("PostgreSQL feed backlog", () => {
  test('finding F1: from: "now" with a backlog of unnumbered lines (> 10 000) starts at the newest', async () => {
    const { schema, pools, asPool, cleanup } = pgSchema(1, 4);
    cleanups.push(cleanup);
    const store = createPostgresStore({ pool: asPool(pools[0]!), schema });
    await store.create(newPayout("k0"), line(null, "created.queued", "PAY"));
    // Months of steps with nobody reading the feed: no reader, no sequencer, nothing numbered.
    await pools[0]!.query(
      `INSERT INTO "${schema}".journal (key, at, from_state, to_state, event, details, version, owner)
       SELECT 'k0', '2026-01-01T00:00:00Z', 'x', 'y', 'step', '{}', 2, 'old' FROM generate_series(1, 25000)`,
    );
    const t0 = Date.now();
    const claim = await store.claimConsumer("webhooks", "me", 10_000, "now");
    const ms = Date.now() - t0;
    const { rows } = await pools[0]!.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".journal`,
    );
    const backlog = (await store.readJournal(claim!.cursor, 10_000)).length;
    console.log(
      `F1: journal ${rows[0]!.n} lines; a new consumer from "now" got cursor ${claim!.cursor} (${ms} ms); ${backlog}+ old events follow`,
    );
    expect(claim!.cursor, "a consumer from now starts at the newest line").toBe(Number(rows[0]!.n));
  });

  test("scale: readJournal and the sequencer on a 100k-line journal", async () => {
    const { schema, pools, asPool, cleanup } = pgSchema(1, 4);
    cleanups.push(cleanup);
    const store = createPostgresStore({ pool: asPool(pools[0]!), schema });
    await store.create(newPayout("k0"), line(null, "created.queued", "PAY"));
    await store.save("k0", 1, write("stored.idle"), line("created.queued", "stored.idle", "s"));
    await pools[0]!.query(
      `INSERT INTO "${schema}".journal (key, at, from_state, to_state, event, details, version, owner, feed_seq)
       SELECT 'k0', '2026-01-01T00:00:00Z', 'x', 'y', 'step', '{}', 2, 'old', g + 2 FROM generate_series(1, 100000) g`,
    );
    await pools[0]!.query(`ANALYZE "${schema}".journal`);
    const times: Record<string, number> = {};
    const time = async (name: string, fn: () => Promise<unknown>) => {
      const t = Date.now();
      await fn();
      times[name] = Date.now() - t;
    };
    await time("readJournal(0, 100)", () => store.readJournal(0, 100));
    await time("readJournal(99900, 100)", () => store.readJournal(99_900, 100));
    await time("readJournal(tail)", () => store.readJournal(100_002, 100));
    await time("lastPosition", () => store.lastPosition());
    const plan = await pools[0]!.query(
      `EXPLAIN SELECT * FROM "${schema}".journal WHERE feed_seq IS NULL ORDER BY seq LIMIT 10000`,
    );
    console.log(
      `scale: ${JSON.stringify(times)}; unnumbered scan plan: ${plan.rows.map((r) => Object.values(r)[0]).join(" | ")}`,
    );
    for (const ms of Object.values(times)) expect(ms).toBeLessThan(200);
  });
});
