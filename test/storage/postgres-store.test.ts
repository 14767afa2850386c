import { afterAll, describe, expect, test } from "vitest";
import { createPostgresStore, migrate } from "../../src/storage/postgres.js";
import { payoutStoreContract } from "../../src/testing/index.js";
import { realPostgresUrl, testPostgres } from "../helpers/postgres.js";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

const label = realPostgresUrl ? "PostgreSQL server" : "PGlite";

payoutStoreContract(`createPostgresStore (${label})`, async (now) => {
  const { pool, schema, cleanup } = await testPostgres();
  cleanups.push(cleanup);
  return createPostgresStore({ pool, schema, now });
});

describe(`createPostgresStore (${label})`, () => {
  test("migrations apply once, in order, and are recorded", async () => {
    const { pool, schema, cleanup } = await testPostgres();
    cleanups.push(cleanup);
    expect(await migrate(pool, schema)).toEqual([1]);
    expect(await migrate(pool, schema)).toEqual([]);
    const { rows } = await pool.query<{ version: number }>(
      `SELECT version FROM "${schema}".migrations`,
    );
    expect(rows.map((r) => Number(r.version))).toEqual([1]);
  });

  test("leases use the database's clock when no clock is given", async () => {
    const { pool, schema, cleanup } = await testPostgres();
    cleanups.push(cleanup);
    const store = createPostgresStore({ pool, schema });
    await store.create(
      {
        key: "a",
        intent: { uid: "u", amount: "1" as never, memo: "m", metadata: {} },
        write: {
          snapshot: {} as never,
          state: "created",
          stateDetail: "created.queued",
          paymentId: null,
          txid: null,
          settled: false,
          at: new Date().toISOString(),
        },
      },
      {
        at: new Date().toISOString(),
        from: null,
        to: "created.queued",
        event: "PAY",
        details: {},
        owner: null,
      },
    );
    expect(await store.claim("a", "one", 60_000)).toBe(true);
    expect(await store.claim("a", "two", 60_000)).toBe(false);
    expect(await store.claim("a", "two", 0)).toBe(false);
    expect(await store.renewAll("one", 1)).toEqual(["a"]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.claim("a", "two", 60_000)).toBe(true);
  });

  test("needs a pool or a connection string", () => {
    expect(() => createPostgresStore({})).toThrow(TypeError);
  });
});
