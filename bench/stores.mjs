// The stores the cases run on: a scratch directory for SQLite files, and PostgreSQL in a
// fresh schema per use (dropped after), or undefined when no server answers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createPostgresStore } from "pi-payments/postgres";
import { createSqliteStore } from "pi-payments/sqlite";

/** Where the cases' SQLite files live; removed when the run ends. */
export const workdir = mkdtempSync(join(tmpdir(), "pi-payments-bench-"));
process.on("exit", () => rmSync(workdir, { recursive: true, force: true }));

/** The PostgreSQL server of the PostgreSQL figures. */
export const pgUrl =
  process.env.BENCH_PG_URL ??
  process.env.PI_PAYMENTS_TEST_PG_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

/** A fresh SQLite file's path in the scratch directory. */
export function sqlitePath(prefix) {
  return join(workdir, `${prefix}-${Math.random().toString(36).slice(2)}.db`);
}

/** A SQLite store on a fresh file (on disk: fsyncs are part of the cost). */
export function sqliteStore(options = {}) {
  const store = createSqliteStore({ path: sqlitePath("store"), ...options });
  return { store, drop: () => store.close() };
}

/**
 * A PostgreSQL store in a fresh schema, with its pool and schema name (for seeding), or
 * undefined when no server answers.
 */
export async function postgresStore() {
  const pool = new pg.Pool({ connectionString: pgUrl, max: 10, connectionTimeoutMillis: 30_000 });
  try {
    await pool.query("SELECT 1");
  } catch {
    await pool.end();
    return undefined;
  }
  const schema = `bench_${Math.random().toString(36).slice(2, 10)}`;
  const store = createPostgresStore({ pool, schema });
  return {
    store,
    pool,
    schema,
    drop: async () => {
      await store.close();
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

/** What the PostgreSQL rows of the table say when no server answered. */
export const NO_POSTGRES = { skipped: "no PostgreSQL server answered" };

/** Runtime timings for the cases against the sandbox: short polls, short backoff. */
export const runtimeOptions = {
  backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
  slotPollMs: 50,
  pollMs: 50,
};
