import pg from "pg";
import { z } from "zod";
import { ConflictError, StorageError } from "../../domain/errors.js";
import { parseWith } from "../../domain/validation.js";
import { snapshotJson } from "../snapshot-json.js";
import { fromJournalRow, fromPayoutRow, type JournalRow, type PayoutRow } from "../sql-rows.js";
import type { JournalInput, ListFilter, PayoutStore, PayoutWrite, SaveOptions } from "../types.js";
import { inTransaction, type PostgresPool, type Queryable } from "./client.js";
import { createPostgresFeed } from "./feed.js";
import { hostClient } from "./host-transaction.js";
import { appendJournalLine } from "./journal-append.js";
import { migrate, quote } from "./migrations.js";

const postgresStoreOptionsSchema = z
  .strictObject({
    /** A pool to use (a `pg.Pool`, or anything with `query` and `connect`). Not ended by `close()`. */
    pool: z
      .custom<PostgresPool>(
        (v) =>
          typeof (v as PostgresPool | undefined)?.query === "function" &&
          typeof (v as PostgresPool | undefined)?.connect === "function",
        "must be a pg.Pool (something with query and connect)",
      )
      .optional(),
    /** A PostgreSQL URL, used when no pool is given. */
    connectionString: z.string().min(1, "must be a postgres:// URL").optional(),
    /** The schema the tables live in; created if missing. @default "pi_payments" */
    schema: z
      .string()
      .min(1, "must name a schema")
      .max(63, "must be at most 63 characters (PostgreSQL's identifier limit)")
      .default("pi_payments"),
    /**
     * The clock for leases, in ms. By default leases use the database's clock, which every
     * process of a fleet shares; pass one only in tests.
     */
    now: z.custom<() => number>((v) => typeof v === "function", "must be a function").optional(),
  })
  .refine((o) => o.pool !== undefined || o.connectionString !== undefined, {
    message: "pass a `pool` or a `connectionString`",
    path: ["pool"],
  });

/** Options of {@link createPostgresStore}. */
export type PostgresStoreOptions = z.input<typeof postgresStoreOptionsSchema>;

/**
 * A store on PostgreSQL for a fleet of processes: leases give one runner per payout
 * (claimed with `FOR UPDATE SKIP LOCKED`), saves are compare-and-set and fenced by the
 * lease, and the slots table keeps one open Pi payment per scope across the fleet.
 * Migrations run on first use (and with `pi-payments migrate`).
 *
 * @example
 * const store = createPostgresStore({ connectionString: process.env.DATABASE_URL });
 */
export function createPostgresStore(options: PostgresStoreOptions): PayoutStore {
  const settings = parseWith(
    postgresStoreOptionsSchema,
    options,
    "PostgreSQL store options",
    "INVALID_OPTIONS",
  );
  const schema = settings.schema;
  const s = quote(schema);
  let pool: PostgresPool | undefined = settings.pool;
  let owned: pg.Pool | undefined;
  let ready: Promise<void> | undefined;

  const open = async (): Promise<PostgresPool> => {
    if (!pool) {
      owned = new pg.Pool({ connectionString: settings.connectionString, max: 10 });
      pool = owned as unknown as PostgresPool;
    }
    ready ??= migrate(pool, schema).then(
      () => undefined,
      (error: unknown) => {
        ready = undefined;
        throw new StorageError(
          `Could not prepare the PostgreSQL store: ${(error as Error).message}`,
          {
            code: "STORAGE_UNAVAILABLE",
            retryable: true,
            cause: error,
          },
        );
      },
    );
    await ready;
    return pool;
  };

  // Lease time: the test clock if given, else the database's own.
  // The wall clock as the statement runs (not now(), the transaction's start): a statement
  // that waited on a lock must not write an expiry already in the past.
  const nowSql = (params: unknown[]): string => {
    if (!settings.now) return "clock_timestamp()";
    params.push(new Date(settings.now()));
    return `$${params.length}::timestamptz`;
  };
  /** The lease clock, and the expiry `ttlMs` after it, as SQL; their parameters go to `params`. */
  const leaseTimes = (params: unknown[], ttlMs: number) => {
    const now = nowSql(params);
    params.push(ttlMs);
    return {
      now,
      until: `${now} + make_interval(secs => $${params.length}::double precision / 1000)`,
    };
  };

  const getRow = async (db: Queryable, key: string, lock = false) =>
    (
      await db.query<PayoutRow>(
        `SELECT * FROM ${s}.payouts WHERE key = $1${lock ? " FOR UPDATE" : ""}`,
        [key],
      )
    ).rows[0];

  const appendJournal = (db: Queryable, key: string, version: number, entry: JournalInput) =>
    appendJournalLine(db, s, key, version, entry);

  return {
    name: "postgres",
    hostTransactions: "async",
    ...createPostgresFeed({ open, s, schema, leaseTimes }),

    async create({ key, intent, write }, entry, createOptions = {}) {
      const { lease, tx } = createOptions;
      const pool = await open();
      const insert = async (db: Queryable) => {
        const params: unknown[] = [
          key,
          JSON.stringify(intent),
          write.state,
          write.stateDetail,
          snapshotJson(write),
          write.paymentId,
          write.txid,
          write.atRest,
          write.holdsSlot,
          write.at,
          write.hookFailure ? JSON.stringify(write.hookFailure) : null,
        ];
        // A new payout may come leased to its creator: one insert, no second write.
        let leaseValues = "NULL, NULL";
        if (lease) {
          params.push(lease.owner);
          leaseValues = `$${params.length}, ${leaseTimes(params, lease.ttlMs).until}`;
        }
        const inserted = await db.query<PayoutRow>(
          `INSERT INTO ${s}.payouts (key, intent, state, state_detail, snapshot, version, payment_id, txid, settled, holds_slot, created_at, updated_at, hook_failure, lease_owner, lease_expires_at)
           VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, $10, $10, $11, ${leaseValues})
           ON CONFLICT (key) DO NOTHING RETURNING *`,
          params,
        );
        const row = inserted.rows[0];
        if (!row) return { created: false, payout: fromPayoutRow((await getRow(db, key))!) };
        await appendJournal(db, key, 1, entry);
        if (createOptions.slot !== undefined && write.holdsSlot) {
          // A free slot only; a concurrent acquirer waits for this commit, then finds it held.
          await db.query(
            `INSERT INTO ${s}.slots (scope, key) VALUES ($1, $2) ON CONFLICT (scope) DO NOTHING`,
            [createOptions.slot, key],
          );
        }
        return { created: true, payout: fromPayoutRow(row) };
      };
      // Inside the host's transaction: the payout exists if and only if the host commits.
      if (tx !== undefined) return insert(await hostClient(tx));
      return inTransaction(pool, insert);
    },

    async save(key, expectedVersion, write: PayoutWrite, entry, saveOptions: SaveOptions = {}) {
      return inTransaction(await open(), async (db) => {
        const params: unknown[] = [
          write.state,
          write.stateDetail,
          snapshotJson(write),
          write.paymentId,
          write.txid,
          write.atRest,
          write.holdsSlot,
          write.at,
          key,
          expectedVersion,
          write.hookFailure ? JSON.stringify(write.hookFailure) : null,
        ];
        let fence = "";
        if (saveOptions.owner !== undefined) {
          params.push(saveOptions.owner);
          fence = ` AND lease_owner = $${params.length} AND lease_expires_at > ${nowSql(params)}`;
        }
        const updated = await db.query<PayoutRow>(
          `UPDATE ${s}.payouts SET state = $1, state_detail = $2, snapshot = $3, payment_id = $4, txid = $5, settled = $6, holds_slot = $7, updated_at = $8, hook_failure = $11, version = version + 1${
            saveOptions.release ? ", lease_owner = NULL, lease_expires_at = NULL" : ""
          }
           WHERE key = $9 AND version = $10${fence} RETURNING *`,
          params,
        );
        const row = updated.rows[0];
        if (!row) {
          const current = await getRow(db, key);
          throw new ConflictError(
            current && Number(current.version) === expectedVersion
              ? `The lease on payout ${key} was lost; another runner may drive it now.`
              : `Payout ${key} changed since version ${expectedVersion}; reload it.`,
            { key, expectedVersion, actualVersion: current ? Number(current.version) : undefined },
          );
        }
        await appendJournal(db, key, expectedVersion + 1, entry);
        if (saveOptions.releaseSlot !== undefined) {
          await db.query(`DELETE FROM ${s}.slots WHERE scope = $1 AND key = $2`, [
            saveOptions.releaseSlot,
            key,
          ]);
        }
        // The host's write joins this transaction; a throw rolls the whole save back.
        if (saveOptions.within !== undefined) await saveOptions.within(db);
        return fromPayoutRow(row);
      });
    },

    async get(key) {
      const row = await getRow(await open(), key);
      return row ? fromPayoutRow(row) : undefined;
    },

    async findByPaymentId(paymentId) {
      const { rows } = await (await open()).query<PayoutRow>(
        `SELECT * FROM ${s}.payouts WHERE payment_id = $1 LIMIT 1`,
        [paymentId],
      );
      return rows[0] ? fromPayoutRow(rows[0]) : undefined;
    },

    async list(filter: ListFilter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.state !== undefined) {
        params.push(([] as string[]).concat(filter.state));
        where.push(`state = ANY($${params.length}::text[])`);
      }
      // Written out, not a parameter: only a literal lets the planner prove the partial index.
      if (filter.atRest !== undefined) where.push(filter.atRest ? "settled" : "NOT settled");
      if (filter.afterKey !== undefined) {
        params.push(filter.afterKey);
        where.push(`key > $${params.length}`);
      }
      params.push(filter.limit ?? 100);
      const { rows } = await (await open()).query<PayoutRow>(
        `SELECT * FROM ${s}.payouts ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY key LIMIT $${params.length}`,
        params,
      );
      return rows.map(fromPayoutRow);
    },

    async journal(key) {
      const { rows } = await (await open()).query<JournalRow>(
        `SELECT * FROM ${s}.journal WHERE key = $1 ORDER BY seq`,
        [key],
      );
      return rows.map(fromJournalRow);
    },

    async claim(key, owner, ttlMs) {
      const params: unknown[] = [owner, key];
      const { now, until } = leaseTimes(params, ttlMs);
      const result = await (await open()).query(
        `UPDATE ${s}.payouts SET lease_owner = $1, lease_expires_at = ${until}
         WHERE key = $2 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at <= ${now})`,
        params,
      );
      return result.rowCount === 1;
    },

    async claimNext(owner, ttlMs, exclude = []) {
      const params: unknown[] = [owner];
      const { now, until } = leaseTimes(params, ttlMs);
      params.push([...exclude]);
      const { rows } = await (await open()).query<PayoutRow>(
        `UPDATE ${s}.payouts SET lease_owner = $1, lease_expires_at = ${until}
         WHERE key = (
           SELECT key FROM ${s}.payouts
           WHERE NOT settled AND (lease_owner IS NULL OR lease_expires_at <= ${now}) AND NOT (key = ANY($${params.length}::text[]))
           ORDER BY created_at, key
           LIMIT 1
           FOR UPDATE SKIP LOCKED
         )
         RETURNING *`,
        params,
      );
      return rows[0] ? fromPayoutRow(rows[0]) : undefined;
    },

    async renewAll(owner, ttlMs) {
      const params: unknown[] = [owner];
      const { now, until } = leaseTimes(params, ttlMs);
      // A row locked by a save in progress (a slow onSettled, say) is not waited for: that
      // save checked the lease when it began, and commits or rolls back on its own. It counts
      // as held while its lease is live, and is renewed on the next round.
      const { rows } = await (await open()).query<{ key: string }>(
        `WITH live AS (
           SELECT key FROM ${s}.payouts WHERE lease_owner = $1 AND lease_expires_at > ${now}
         ), renewed AS (
           UPDATE ${s}.payouts SET lease_expires_at = ${until}
           WHERE key IN (SELECT key FROM live) AND key IN (
             SELECT key FROM ${s}.payouts WHERE lease_owner = $1 FOR UPDATE SKIP LOCKED
           )
         )
         SELECT key FROM live`,
        params,
      );
      return rows.map((r) => r.key);
    },

    async release(key, owner) {
      await (await open()).query(
        `UPDATE ${s}.payouts SET lease_owner = NULL, lease_expires_at = NULL WHERE key = $1 AND lease_owner = $2`,
        [key, owner],
      );
    },

    async takeOver(from, to, ttlMs) {
      const params: unknown[] = [from, to];
      const { until } = leaseTimes(params, ttlMs);
      const { rows } = await (await open()).query<{ key: string }>(
        `UPDATE ${s}.payouts SET lease_owner = $2, lease_expires_at = ${until}
         WHERE lease_owner = $1 RETURNING key`,
        params,
      );
      return rows.map((r) => r.key);
    },

    async leaseOwners() {
      const params: unknown[] = [];
      const now = nowSql(params);
      const { rows } = await (await open()).query<{ owner: string }>(
        `SELECT DISTINCT lease_owner AS owner FROM ${s}.payouts
         WHERE lease_owner IS NOT NULL AND lease_expires_at > ${now}`,
        params,
      );
      return rows.map((r) => r.owner);
    },

    async acquireSlot(scope, key) {
      return inTransaction(await open(), async (db) => {
        // Lock the acquirer's row first. A save of it (a cancel that turns holds_slot false)
        // either committed before, and is seen here, or waits for this transaction, and its
        // releaseSlot then deletes the row written here: the slot cannot leak to a payout
        // that has ended. FOR SHARE, not FOR KEY SHARE: only the former makes a save's
        // UPDATE (which takes FOR NO KEY UPDATE) wait.
        const acquirer = await db.query<{ holds_slot: boolean }>(
          `SELECT holds_slot FROM ${s}.payouts WHERE key = $1 FOR SHARE`,
          [key],
        );
        if (acquirer.rows[0]?.holds_slot !== true) return false;
        // Take the slot if free; else lock its row (a no-op update) and learn the holder.
        const { rows } = await db.query<{ key: string }>(
          `INSERT INTO ${s}.slots (scope, key) VALUES ($1, $2)
           ON CONFLICT (scope) DO UPDATE SET key = ${s}.slots.key
           RETURNING key`,
          [scope, key],
        );
        if (rows[0]?.key === key) return true;
        // A holder that is no payout, or may no longer hold it, leaked the slot: take it over.
        // A new statement, so its snapshot sees every payout committed before the lock.
        const taken = await db.query(
          `UPDATE ${s}.slots SET key = $2 WHERE scope = $1 AND NOT EXISTS (
             SELECT 1 FROM ${s}.payouts WHERE payouts.key = slots.key AND holds_slot
           )`,
          [scope, key],
        );
        return taken.rowCount === 1;
      });
    },

    async releaseSlot(scope, key) {
      await (await open()).query(`DELETE FROM ${s}.slots WHERE scope = $1 AND key = $2`, [
        scope,
        key,
      ]);
    },

    async slotHolder(scope) {
      const { rows } = await (await open()).query<{ key: string }>(
        `SELECT key FROM ${s}.slots WHERE scope = $1`,
        [scope],
      );
      return rows[0]?.key;
    },

    async close() {
      if (owned) await owned.end();
      owned = undefined;
      if (!settings.pool) pool = undefined;
      ready = undefined;
    },
  };
}

export { migrate } from "./migrations.js";
