import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import type { PostgresPool, Queryable } from "../../src/storage/postgres.js";

/** The real server CI provides; unset on a laptop, where PGlite stands in. */
export const realPostgresUrl = process.env.PI_PAYMENTS_TEST_PG_URL;

/**
 * A database on the real server whose default collation is ICU en-US, as on many managed
 * services: keys must still order bytewise there. CI sets it; unset, its tests are skipped.
 */
export const icuPostgresUrl = process.env.PI_PAYMENTS_TEST_PG_ICU_URL;

/**
 * PGlite behind the pool interface the store uses. PGlite has one connection, so each
 * query and each checked-out client takes a lock: a transaction never interleaves with
 * another caller's queries.
 */
export function pglitePool(db: PGlite): PostgresPool {
  let tail: Promise<void> = Promise.resolve();
  const lock = async () => {
    let release!: () => void;
    const previous = tail;
    tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    return release;
  };
  const run: Queryable["query"] = async (text, params) => {
    const result = await db.query(text, params as unknown[]);
    return { rows: result.rows as never[], rowCount: result.affectedRows ?? result.rows.length };
  };
  return {
    async query(text, params) {
      const release = await lock();
      try {
        return await run(text, params);
      } finally {
        release();
      }
    },
    async connect() {
      const release = await lock();
      return { query: run, release: () => release() };
    },
  };
}

/**
 * A pool and a fresh schema name for one test: the server at `url` (by default the real
 * server when configured), else PGlite.
 */
export async function testPostgres(url: string | undefined = realPostgresUrl): Promise<{
  pool: PostgresPool;
  schema: string;
  cleanup: () => Promise<void>;
  kind: string;
}> {
  const schema = `t_${randomBytes(6).toString("hex")}`;
  if (url) {
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    return {
      pool: pool as unknown as PostgresPool,
      schema,
      kind: "postgresql",
      cleanup: async () => {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await pool.end();
      },
    };
  }
  // PGlite takes seconds to start: one per test file, a schema per test.
  shared ??= (async () => pglitePool(new PGlite()))();
  const pool = await shared;
  return {
    pool,
    schema,
    kind: "pglite",
    cleanup: async () => void (await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
  };
}

let shared: Promise<PostgresPool> | undefined;
