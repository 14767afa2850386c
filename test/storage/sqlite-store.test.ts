import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { payoutStoreContract } from "../../src/testing/index.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

payoutStoreContract("createSqliteStore (file, WAL)", async (now) =>
  createSqliteStore({ path: join(dir, `store-${n++}.db`), now }),
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
    expect(db.pragma("user_version", { simple: true })).toBe(1);
    db.close();
    const again = createSqliteStore({ path });
    expect(await again.list()).toEqual([]);
    await again.close();
  });

  test("two stores on one file see each other's writes (two processes share it so)", async () => {
    const path = join(dir, "shared.db");
    const one = createSqliteStore({ path });
    const two = createSqliteStore({ path });
    expect(await one.acquireSlot("s", "a")).toBe(true);
    expect(await two.acquireSlot("s", "b")).toBe(false);
    expect(await two.slotHolder("s")).toBe("a");
    await one.close();
    await two.close();
  });

  test("a file it cannot open is a typed storage error", async () => {
    const store = createSqliteStore({ path: join(dir, "missing-dir", "x.db") });
    await expect(store.list()).rejects.toMatchObject({
      name: "StorageError",
      code: "STORAGE_UNAVAILABLE",
    });
  });
});
