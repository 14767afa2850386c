import Database from "better-sqlite3";
import { z } from "zod";
import { ConflictError, StorageError } from "../domain/errors.js";
import { parseWith } from "../domain/validation.js";
import { fromJournalRow, fromPayoutRow, type JournalRow, type PayoutRow } from "./sql-rows.js";
import { assignments, type IndexedColumns, writeParams } from "./sqlite-columns.js";
import { createSqliteDurability } from "./sqlite-durability.js";
import { createSqliteFeed } from "./sqlite-feed.js";
import { checkHostTransaction, refuseAsync } from "./sqlite-host-transaction.js";
import { sqliteMigrations as migrations } from "./sqlite-migrations.js";
import { preparedOnce } from "./sqlite-prepared.js";
import type {
  CreateOptions,
  JournalInput,
  ListFilter,
  NewPayout,
  PayoutStore,
  PayoutWrite,
  SaveOptions,
} from "./types.js";

/** The better-sqlite3 connection type, named so the options' type can be declared. */
export interface SqliteDatabase extends Database.Database {}

const fn = <T>() => z.custom<T>((v) => typeof v === "function", "must be a function");

const sqliteStoreOptionsSchema = z
  .strictObject({
    /** Database file, or ":memory:". @default "pi-payments.db" */
    path: z.string().min(1, 'must be a file path or ":memory:"').optional(),
    /**
     * An open better-sqlite3 database to use instead of opening `path`: the host app's own,
     * so that `onSettled` and `enqueue({ tx })` share its transactions. The store's tables are
     * made in it at once (outside any transaction), it is switched to WAL, and it is not
     * closed by `close()`. Open your transactions on it with `db.transaction(fn)` only: a
     * synchronous function, so that no save of the store can run inside one.
     */
    database: z
      .custom<SqliteDatabase>(
        (v) => typeof (v as SqliteDatabase | undefined)?.prepare === "function",
        "must be an open better-sqlite3 Database",
      )
      .optional(),
    /**
     * Which saves are synced to disk before they resolve. Every save survives a process crash
     * either way (WAL). `"critical"` syncs those a power cut must not undo (a new payout, a new
     * envelope about to be sent, a cancel): the safety argument needs no more, and the other
     * steps are redone safely from the one before. `"every-step"` syncs every save.
     * @default "critical"
     */
    durability: z
      .enum(["critical", "every-step"], { error: () => 'must be "critical" or "every-step"' })
      .default("critical"),
    /** How long a write waits for another process's lock, in ms. @default 5000 */
    busyTimeoutMs: z.number().int().min(0).default(5000),
    /** The clock for leases, in ms. @default Date.now */
    now: fn<() => number>().default(() => Date.now),
  })
  .refine((o) => o.path === undefined || o.database === undefined, {
    message: "pass `path` or `database`, not both",
    path: ["database"],
  })
  .prefault({});

/** Options of {@link createSqliteStore}. */
export type SqliteStoreOptions = NonNullable<z.input<typeof sqliteStoreOptionsSchema>>;

const columns =
  "key, intent, state, state_detail, snapshot, version, payment_id, txid, settled, holds_slot, created_at, updated_at, lease_owner, lease_expires_at, hook_failure";

/**
 * The embedded default store: one SQLite file (WAL), shared safely by several processes
 * on one machine.
 *
 * @example
 * const store = createSqliteStore({ path: "./payouts.db" });
 */
export function createSqliteStore(options?: SqliteStoreOptions): PayoutStore {
  const settings = parseWith(
    sqliteStoreOptionsSchema,
    options,
    "SQLite store options",
    "INVALID_OPTIONS",
  );
  const now = settings.now;
  const everyStep = settings.durability === "every-step";
  let db: Database.Database | undefined;
  const prepared = preparedOnce(() => open());
  const { sql, transaction } = prepared;

  const open = (): Database.Database => {
    if (db) return db;
    try {
      db = settings.database ?? new Database(settings.path ?? "pi-payments.db");
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${everyStep ? "FULL" : "NORMAL"}`);
      db.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
      const applied = db.pragma("user_version", { simple: true }) as number;
      db.transaction(() => {
        for (let i = applied; i < migrations.length; i++) db!.exec(migrations[i]!);
        db!.pragma(`user_version = ${migrations.length}`);
      }).immediate();
    } catch (error) {
      db = undefined;
      prepared.forget();
      throw new StorageError(`Could not open the SQLite store: ${(error as Error).message}`, {
        code: "STORAGE_UNAVAILABLE",
        cause: error,
      });
    }
    return db;
  };

  const durability = createSqliteDurability({
    open,
    sql,
    everyStep,
    busyTimeoutMs: settings.busyTimeoutMs,
  });
  const { durably } = durability;

  const append = (key: string, version: number, entry: JournalInput) => {
    const { lastInsertRowid } = sql(
      "INSERT INTO journal (key, at, from_state, to_state, event, details, version, owner, view) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ).run(
      key,
      entry.at,
      entry.from,
      entry.to,
      entry.event,
      JSON.stringify(entry.details),
      version,
      entry.owner,
      entry.view ? JSON.stringify(entry.view) : null,
    );
    durability.appended(Number(lastInsertRowid));
  };

  const getRow = (key: string) =>
    sql(`SELECT ${columns} FROM payouts WHERE key = ?`).get(key) as PayoutRow | undefined;

  /** The insert of a new payout and its first line: the body of a better-sqlite3 transaction. */
  const insertion = (
    { key, intent, write }: NewPayout,
    entry: JournalInput,
    { lease, slot }: Pick<CreateOptions, "lease" | "slot"> = {},
  ) => {
    // A new payout may come leased to its creator: one insert, no second write. An
    // existing key inserts nothing and is read back as it is.
    const inserted = sql(
      `INSERT INTO payouts (key, intent, state, state_detail, snapshot, payment_id, txid, settled, holds_slot, hook_failure, updated_at, version, created_at, lease_owner, lease_expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
           ON CONFLICT (key) DO NOTHING RETURNING ${columns}`,
    ).get(
      key,
      JSON.stringify(intent),
      ...writeParams(write),
      write.at,
      lease?.owner ?? null,
      lease ? now() + lease.ttlMs : null,
    ) as PayoutRow | undefined;
    if (!inserted) return { created: false, payout: fromPayoutRow(getRow(key)!) };
    append(key, 1, entry);
    if (slot !== undefined && write.holdsSlot) {
      sql("INSERT INTO slots (scope, key) VALUES (?, ?) ON CONFLICT (scope) DO NOTHING").run(
        slot,
        key,
      );
    }
    return { created: true, payout: fromPayoutRow(inserted) };
  };

  // The host's handle is readied now: its first use may come inside the host's transaction,
  // where the store could neither migrate nor set its pragmas.
  if (settings.database) open();

  const createWithin: NonNullable<PayoutStore["createWithin"]> = (tx, payout, entry) => {
    checkHostTransaction(tx, open());
    // A savepoint inside the host's transaction: it commits with the host, and a power cut
    // keeps both or neither.
    return transaction(insertion)(payout, entry);
  };

  /** A save of a payout's next step and its journal line: the body of a transaction. */
  const saving = (
    key: string,
    expectedVersion: number,
    write: PayoutWrite,
    entry: JournalInput,
    saveOptions: SaveOptions,
  ) => {
    const fence =
      saveOptions.owner === undefined ? "" : " AND lease_owner = ? AND lease_expires_at > ?";
    const current = sql("SELECT state, settled, payment_id FROM payouts WHERE key = ?").get(key) as
      | IndexedColumns
      | undefined;
    const { sets, params } = assignments(write, current);
    params.push(key, expectedVersion);
    if (saveOptions.owner !== undefined) params.push(saveOptions.owner, now());
    const updated = sql(
      `UPDATE payouts SET ${sets}, version = version + 1${
        saveOptions.release ? ", lease_owner = NULL, lease_expires_at = NULL" : ""
      }
             WHERE key = ? AND version = ?${fence} RETURNING ${columns}`,
    ).get(...params) as PayoutRow | undefined;
    if (!updated) {
      const current = getRow(key);
      throw new ConflictError(
        current && current.version === expectedVersion
          ? `The lease on payout ${key} was lost; another runner may drive it now.`
          : `Payout ${key} changed since version ${expectedVersion}; reload it.`,
        { key, expectedVersion, actualVersion: current?.version },
      );
    }
    append(key, expectedVersion + 1, entry);
    if (saveOptions.releaseSlot !== undefined) {
      sql("DELETE FROM slots WHERE scope = ? AND key = ?").run(saveOptions.releaseSlot, key);
    }
    // The host's write joins this transaction; a throw rolls the whole save back.
    if (saveOptions.within !== undefined) {
      refuseAsync(saveOptions.within(open()));
    }
    return fromPayoutRow(updated);
  };

  /** Leases the oldest unfinished payout nobody holds: the body of a transaction. */
  const claimingNext = (owner: string, ttlMs: number, exclude: readonly string[]) => {
    const t = now();
    const row = sql(
      `SELECT ${columns} FROM payouts
               WHERE settled = 0 AND (lease_owner IS NULL OR lease_expires_at <= ?)
                 AND key NOT IN (SELECT value FROM json_each(?))
               ORDER BY created_at, key LIMIT 1`,
    ).get(t, JSON.stringify(exclude)) as PayoutRow | undefined;
    if (!row) return undefined;
    const leased = sql(
      `UPDATE payouts SET lease_owner = ?, lease_expires_at = ? WHERE key = ? RETURNING ${columns}`,
    ).get(owner, t + ttlMs, row.key) as PayoutRow;
    return fromPayoutRow(leased);
  };

  /** Takes a scope's slot for a payout that may hold it: the body of a transaction. */
  const acquiringSlot = (scope: string, key: string) => {
    const me = sql("SELECT holds_slot FROM payouts WHERE key = ?").get(key) as
      | { holds_slot: number }
      | undefined;
    if (me?.holds_slot !== 1) return false;
    // Take the slot if free, or over from a holder that is no payout or may not hold it.
    const taken = sql(
      `INSERT INTO slots (scope, key) VALUES (?, ?)
             ON CONFLICT (scope) DO UPDATE SET key = excluded.key
             WHERE slots.key = excluded.key
                OR NOT EXISTS (SELECT 1 FROM payouts WHERE payouts.key = slots.key AND holds_slot = 1)
             RETURNING key`,
    ).get(scope, key) as { key: string } | undefined;
    return taken?.key === key;
  };

  return {
    name: "sqlite",
    hostTransactions: "sync",
    ...createSqliteFeed(sql, now, durability.syncJournal),

    async create(payout, entry, createOptions = {}) {
      if (createOptions.tx !== undefined) return createWithin(createOptions.tx, payout, entry);
      const insert = transaction(insertion);
      // An intent accepted must survive a power cut: the caller was told it is stored.
      return durably(() => insert.immediate(payout, entry, createOptions), true);
    },

    createWithin,

    async save(key, expectedVersion, write, entry, saveOptions: SaveOptions = {}) {
      const update = transaction(saving);
      return durably(
        () => update.immediate(key, expectedVersion, write, entry, saveOptions),
        saveOptions.durable === true,
      );
    },

    async get(key) {
      const row = getRow(key);
      return row ? fromPayoutRow(row) : undefined;
    },

    async findByPaymentId(paymentId) {
      const row = sql(`SELECT ${columns} FROM payouts WHERE payment_id = ? LIMIT 1`).get(
        paymentId,
      ) as PayoutRow | undefined;
      return row ? fromPayoutRow(row) : undefined;
    },

    async list(filter: ListFilter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.state !== undefined) {
        const states = ([] as string[]).concat(filter.state);
        where.push(`state IN (${states.map(() => "?").join(", ")})`);
        params.push(...states);
      }
      // Written out, not a parameter: the planner picks the partial index only for a literal.
      if (filter.atRest !== undefined) where.push(filter.atRest ? "settled = 1" : "settled = 0");
      if (filter.afterKey !== undefined) {
        where.push("key > ?");
        params.push(filter.afterKey);
      }
      params.push(filter.limit ?? 100);
      const query = `SELECT ${columns} FROM payouts ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY key LIMIT ?`;
      return (sql(query).all(...params) as PayoutRow[]).map(fromPayoutRow);
    },

    async journal(key) {
      const rows = sql("SELECT * FROM journal WHERE key = ? ORDER BY seq").all(key) as JournalRow[];
      return rows.map(fromJournalRow);
    },

    async claim(key, owner, ttlMs) {
      const t = now();
      const result = sql(
        `UPDATE payouts SET lease_owner = ?, lease_expires_at = ?
           WHERE key = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at <= ?)`,
      ).run(owner, t + ttlMs, key, owner, t);
      return result.changes === 1;
    },

    async claimNext(owner, ttlMs, exclude = []) {
      return transaction(claimingNext).immediate(owner, ttlMs, exclude);
    },

    async renewAll(owner, ttlMs) {
      const t = now();
      const rows = sql(
        "UPDATE payouts SET lease_expires_at = ? WHERE lease_owner = ? AND lease_expires_at > ? RETURNING key",
      ).all(t + ttlMs, owner, t) as Array<{ key: string }>;
      return rows.map((r) => r.key);
    },

    async release(key, owner) {
      sql(
        "UPDATE payouts SET lease_owner = NULL, lease_expires_at = NULL WHERE key = ? AND lease_owner = ?",
      ).run(key, owner);
    },

    async takeOver(from, to, ttlMs) {
      const rows = sql(
        "UPDATE payouts SET lease_owner = ?, lease_expires_at = ? WHERE lease_owner = ? RETURNING key",
      ).all(to, now() + ttlMs, from) as Array<{ key: string }>;
      return rows.map((r) => r.key);
    },

    async leaseOwners() {
      const rows = sql(
        "SELECT DISTINCT lease_owner AS owner FROM payouts WHERE lease_owner IS NOT NULL AND lease_expires_at > ?",
      ).all(now()) as Array<{ owner: string }>;
      return rows.map((r) => r.owner);
    },

    async acquireSlot(scope, key) {
      // BEGIN IMMEDIATE takes the write lock first, so no save of this payout (in any
      // process on the file) runs between the check of holds_slot and the slot's write.
      return transaction(acquiringSlot).immediate(scope, key);
    },

    async releaseSlot(scope, key) {
      sql("DELETE FROM slots WHERE scope = ? AND key = ?").run(scope, key);
    },

    async slotHolder(scope) {
      return (
        sql("SELECT key FROM slots WHERE scope = ?").get(scope) as { key: string } | undefined
      )?.key;
    },

    async close() {
      if (db && !settings.database) db.close();
      db = undefined;
      prepared.forget();
      durability.forget();
    },
  };
}
