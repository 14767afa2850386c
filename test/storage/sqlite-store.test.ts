import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { parseAmount } from "../../src/domain/index.js";
import type { PersistedPayoutSnapshot } from "../../src/machines/index.js";
import { sqliteMigrations } from "../../src/storage/sqlite-migrations.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import type { PayoutStore, PayoutWrite } from "../../src/storage/types.js";
import { payoutStoreContract } from "../../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const write: PayoutWrite = {
  snapshot: { status: "active", value: "created" } as unknown as PersistedPayoutSnapshot,
  state: "created",
  stateDetail: "created.queued",
  paymentId: null,
  txid: null,
  atRest: false,
  holdsSlot: true,
  at: "2026-11-24T10:00:00.000Z",
};
const line = { at: write.at, from: null, to: "x", event: "PAY", details: {}, owner: null };
const intent = { uid: "u", amount: parseAmount("1"), memo: "m", metadata: {} };

// Each file store's path, for writing rows the port cannot write.
const paths = new WeakMap<PayoutStore, string>();
payoutStoreContract(
  "createSqliteStore (file, WAL)",
  async (now) => {
    const path = join(dir, `store-${n++}.db`);
    const store = createSqliteStore({ path, now });
    paths.set(store, path);
    return store;
  },
  {
    async seedSlot(store, scope, key) {
      await store.list({ limit: 1 }); // opens and migrates the file
      const db = new Database(paths.get(store)!);
      db.prepare("INSERT INTO slots (scope, key) VALUES (?, ?)").run(scope, key);
      db.close();
    },
  },
);
payoutStoreContract("createSqliteStore (:memory:)", async (now) =>
  createSqliteStore({ path: ":memory:", now }),
);

describe("createSqliteStore", () => {
  test("opens lazily, migrates once, and runs in WAL mode", async () => {
    const path = join(dir, "lazy.db");
    const store = createSqliteStore({ path });
    expect(await store.list()).toEqual([]);
    await store.close();
    const db = new Database(path);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.pragma("user_version", { simple: true })).toBe(sqliteMigrations.length);
    db.close();
    const again = createSqliteStore({ path });
    expect(await again.list()).toEqual([]);
    await again.close();
  });

  test("two stores on one file see each other's writes (two processes share it so)", async () => {
    const path = join(dir, "shared.db");
    const one = createSqliteStore({ path });
    const two = createSqliteStore({ path });
    await one.create({ key: "a", intent, write }, line);
    await two.create({ key: "b", intent, write }, line);
    expect(await one.acquireSlot("s", "a")).toBe(true);
    expect(await two.acquireSlot("s", "b")).toBe(false);
    expect(await two.slotHolder("s")).toBe("a");
    await one.close();
    await two.close();
  });

  test("a file an older release opened again (user_version set back by one) still opens", async () => {
    const path = join(dir, "downgraded.db");
    const first = createSqliteStore({ path });
    await first.create({ key: "k", intent, write }, line);
    await first.close();
    // The release before the feed's sync table writes its own migration count.
    const db = new Database(path);
    db.pragma(`user_version = ${sqliteMigrations.length - 1}`);
    db.close();
    const again = createSqliteStore({ path });
    expect((await again.get("k"))?.key).toBe("k");
    expect((await again.readJournal(0, 10)).map((l) => l.seq)).toEqual([1]);
    await again.close();
  });

  test("upgrading from the first schema keeps payouts and frees slots nobody may hold", async () => {
    const path = join(dir, "upgrade.db");
    // The first schema as a store of the first release left it, with its data.
    const db = new Database(path);
    db.exec(sqliteMigrations[0]!);
    db.pragma("user_version = 1");
    const insert = db.prepare(
      `INSERT INTO payouts (key, intent, state, state_detail, snapshot, version, settled, created_at, updated_at)
       VALUES (?, ?, ?, ?, '{}', 1, ?, ?, ?)`,
    );
    for (const [key, state, settled] of [
      ["done", "completed", 1],
      ["open", "created", 0],
      ["stuck", "failed", 1],
    ] as const)
      insert.run(key, JSON.stringify(intent), state, state, settled, write.at, write.at);
    db.exec(
      "INSERT INTO slots (scope, key) VALUES ('s1', 'done'), ('s2', 'ghost'), ('s3', 'open'), ('s4', 'stuck')",
    );
    db.close();

    const store = createSqliteStore({ path });
    expect((await store.list()).map((p) => [p.key, p.holdsSlot])).toEqual([
      ["done", false],
      ["open", true],
      ["stuck", true],
    ]);
    await store.create({ key: "new", intent, write }, line);
    expect(await store.acquireSlot("s1", "new")).toBe(true);
    expect(await store.acquireSlot("s2", "new")).toBe(true);
    expect(await store.acquireSlot("s3", "new")).toBe(false);
    expect(await store.acquireSlot("s4", "new")).toBe(false);
    await store.close();
  });

  test("an index serves a page of unsettled payouts without a sort", async () => {
    const path = join(dir, "plan.db");
    const store = createSqliteStore({ path });
    await store.list({ limit: 1 });
    await store.close();
    const db = new Database(path);
    // The query list({ atRest: false, afterKey, limit }) runs.
    const plan = db
      .prepare(
        "EXPLAIN QUERY PLAN SELECT * FROM payouts WHERE settled = 0 AND key > ? ORDER BY key LIMIT ?",
      )
      .all("k", 100) as Array<{ detail: string }>;
    db.close();
    const details = plan.map((row) => row.detail).join("\n");
    expect(details).toMatch(/USING INDEX payouts_unsettled_key \(settled=\? AND key>\?\)/);
    expect(details).not.toMatch(/TEMP B-TREE/);
  });

  test("a file it cannot open is a typed storage error", async () => {
    const store = createSqliteStore({ path: join(dir, "missing-dir", "x.db") });
    await expect(store.list()).rejects.toMatchObject({
      name: "StorageError",
      code: "STORAGE_UNAVAILABLE",
    });
  });
});
