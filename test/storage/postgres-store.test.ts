import { afterAll, describe, expect, test } from "vitest";
import { parseAmount } from "../../src/domain/index.js";
import type { PersistedPayoutSnapshot } from "../../src/machines/index.js";
import { migrations } from "../../src/storage/postgres/migrations.js";
import { createPostgresStore, migrate, type PostgresPool } from "../../src/storage/postgres.js";
import type { PayoutStore, PayoutWrite } from "../../src/storage/types.js";
import { payoutStoreContract } from "../../src/testing/index.js";
import { icuPostgresUrl, realPostgresUrl, testPostgres } from "../helpers/postgres.js";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** Each database the suite runs on: its label, and its URL (none: PGlite). */
const databases: Array<[string, string | undefined]> = [
  [realPostgresUrl ? "PostgreSQL server" : "PGlite", realPostgresUrl],
];
if (icuPostgresUrl) databases.push(["PostgreSQL server, ICU en-US database", icuPostgresUrl]);

const write = (state: PayoutWrite["state"], detail: string): PayoutWrite => ({
  snapshot: { status: "active", value: detail } as unknown as PersistedPayoutSnapshot,
  state,
  stateDetail: detail,
  paymentId: null,
  txid: null,
  atRest: ["completed", "cancelled", "failed"].includes(state),
  holdsSlot: !["completed", "cancelled"].includes(state),
  at: new Date().toISOString(),
});
const line = {
  at: new Date().toISOString(),
  from: null,
  to: "x",
  event: "PAY",
  details: {},
  owner: null,
};
const intent = { uid: "u", amount: parseAmount("1"), memo: "m", metadata: {} };

for (const [label, url] of databases) {
  // Where each store's tables are, for writing rows the port cannot write.
  const tables = new WeakMap<PayoutStore, { pool: PostgresPool; schema: string }>();

  payoutStoreContract(
    `createPostgresStore (${label})`,
    async (now) => {
      const { pool, schema, cleanup } = await testPostgres(url);
      cleanups.push(cleanup);
      const store = createPostgresStore({ pool, schema, now });
      tables.set(store, { pool, schema });
      return store;
    },
    {
      async seedSlot(store, scope, key) {
        const { pool, schema } = tables.get(store)!;
        await migrate(pool, schema);
        await pool.query(`INSERT INTO "${schema}".slots (scope, key) VALUES ($1, $2)`, [
          scope,
          key,
        ]);
      },
    },
  );

  describe(`createPostgresStore (${label})`, () => {
    test("migrations apply once, in order, and are recorded", async () => {
      const { pool, schema, cleanup } = await testPostgres(url);
      cleanups.push(cleanup);
      expect(await migrate(pool, schema)).toEqual([1, 2, 3, 4, 5]);
      expect(await migrate(pool, schema)).toEqual([]);
      const { rows } = await pool.query<{ version: number }>(
        `SELECT version FROM "${schema}".migrations ORDER BY version`,
      );
      expect(rows.map((r) => Number(r.version))).toEqual([1, 2, 3, 4, 5]);
    });

    test('key columns collate "C", so that order and comparison are bytewise', async () => {
      const { pool, schema, cleanup } = await testPostgres(url);
      cleanups.push(cleanup);
      await migrate(pool, schema);
      const { rows } = await pool.query<{ table_name: string; collation_name: string }>(
        `SELECT table_name, collation_name FROM information_schema.columns
         WHERE table_schema = $1 AND column_name = 'key' ORDER BY table_name`,
        [schema],
      );
      expect(rows).toEqual([
        { table_name: "journal", collation_name: "C" },
        { table_name: "payouts", collation_name: "C" },
        { table_name: "slots", collation_name: "C" },
      ]);
    });

    test("upgrading from the first schema keeps payouts and frees slots nobody may hold", async () => {
      const { pool, schema, cleanup } = await testPostgres(url);
      cleanups.push(cleanup);
      const s = `"${schema}"`;
      // The first schema as a store of the first release left it, with its data.
      await pool.query(`CREATE SCHEMA ${s}`);
      await pool.query(
        `CREATE TABLE ${s}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      for (const statement of migrations(schema)[0]!
        .split(";")
        .filter((t) => t.trim()))
        await pool.query(statement);
      await pool.query(`INSERT INTO ${s}.migrations (version) VALUES (1)`);
      for (const [key, state, settled] of [
        ["done", "completed", true],
        ["open", "created", false],
        ["stuck", "failed", true],
      ] as const) {
        await pool.query(
          `INSERT INTO ${s}.payouts (key, intent, state, state_detail, snapshot, version, settled, created_at, updated_at)
           VALUES ($1, $2, $3, $3, '{}', 1, $4, now(), now())`,
          [key, JSON.stringify(intent), state, settled],
        );
      }
      await pool.query(
        `INSERT INTO ${s}.slots (scope, key) VALUES ('s1', 'done'), ('s2', 'ghost'), ('s3', 'open'), ('s4', 'stuck')`,
      );

      const store = createPostgresStore({ pool, schema });
      expect((await store.list()).map((p) => [p.key, p.holdsSlot])).toEqual([
        ["done", false],
        ["open", true],
        ["stuck", true],
      ]);
      await store.create({ key: "new", intent, write: write("created", "created.queued") }, line);
      expect(await store.acquireSlot("s1", "new")).toBe(true);
      expect(await store.acquireSlot("s2", "new")).toBe(true);
      expect(await store.acquireSlot("s3", "new")).toBe(false);
      expect(await store.acquireSlot("s4", "new")).toBe(false);
    });

    test("an index serves a page of unsettled payouts without a sort", async () => {
      const { pool, schema, cleanup } = await testPostgres(url);
      cleanups.push(cleanup);
      await migrate(pool, schema);
      const s = `"${schema}"`;
      // Many settled payouts and a few open ones: the shape of a long-lived store.
      await pool.query(
        `INSERT INTO ${s}.payouts (key, intent, state, state_detail, snapshot, version, settled, holds_slot, created_at, updated_at)
         SELECT 'p' || lpad(i::text, 6, '0'), '{}', 'completed', 'completed', '{}', 1, i % 100 <> 0, i % 100 = 0, now(), now()
         FROM generate_series(1, 20000) AS i`,
      );
      await pool.query(`ANALYZE ${s}.payouts`);
      const { rows } = await pool.query<{ "QUERY PLAN": unknown }>(
        `EXPLAIN (FORMAT JSON) SELECT * FROM ${s}.payouts WHERE NOT settled AND key > $1 ORDER BY key LIMIT $2`,
        ["p001000", 100],
      );
      const plan = JSON.stringify(rows[0]!["QUERY PLAN"]);
      expect(plan).toContain('"Index Name":"payouts_unsettled_key"');
      expect(plan).not.toContain('"Node Type":"Sort"');
    });

    test("leases use the database's clock when no clock is given", async () => {
      const { pool, schema, cleanup } = await testPostgres(url);
      cleanups.push(cleanup);
      const store = createPostgresStore({ pool, schema });
      await store.create({ key: "a", intent, write: write("created", "created.queued") }, line);
      expect(await store.claim("a", "one", 60_000)).toBe(true);
      expect(await store.claim("a", "two", 60_000)).toBe(false);
      expect(await store.claim("a", "two", 0)).toBe(false);
      expect(await store.leaseOwners()).toEqual(["one"]);
      expect(await store.renewAll("one", 1)).toEqual(["a"]);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await store.leaseOwners()).toEqual([]);
      expect(await store.claim("a", "two", 60_000)).toBe(true);
      const lease = (await store.get("a"))?.lease;
      expect(lease?.owner).toBe("two");
      expect(Math.abs(Date.parse(lease!.expiresAt) - (Date.now() + 60_000))).toBeLessThan(10_000);
    });
  });
}

describe("createPostgresStore options", () => {
  test("needs a pool or a connection string: a ValidationError naming the option", () => {
    expect(() => createPostgresStore({})).toThrow(
      expect.objectContaining({
        name: "ValidationError",
        code: "INVALID_OPTIONS",
        issues: [expect.objectContaining({ path: "pool" })],
      }),
    );
  });
});
