import { setTimeout as sleep } from "node:timers/promises";
import type { ConsumerState, DeadLetter, FeedStore } from "../feed-types.js";
import { fromJournalRow, type JournalRow } from "../sql-rows.js";
import { inTransaction, type PostgresPool } from "./client.js";

interface ConsumerRow {
  name: string;
  cursor: string | number;
  owner: string | null;
  lease_expires_at: Date | string | null;
  updated_at: Date | string;
}

interface DeadLetterRow {
  id: string | number;
  consumer: string;
  seq: string | number;
  attempts: number;
  error: string;
  at: Date | string;
}

const iso = (value: Date | string) => new Date(value).toISOString();
const fromDeadLetterRow = (row: DeadLetterRow): DeadLetter => ({
  id: Number(row.id),
  consumer: row.consumer,
  seq: Number(row.seq),
  attempts: row.attempts,
  error: row.error,
  at: iso(row.at),
});

/** Lines numbered per sequencing pass: bounded, so one pass stays a short transaction. */
const SEQUENCE_BATCH = 10_000;

/**
 * The PostgreSQL store's feed.
 *
 * A line's `seq` (bigserial) is taken at insert, not at commit, so lines can commit out of
 * seq order: a cursor on seq would skip a line that committed after a higher one. Instead a
 * line gets its `feed_seq` after it commits, from one sequencer at a time (a transaction
 * advisory lock): it numbers the committed, unnumbered lines after the highest number given.
 * A line still uncommitted is invisible to it and is numbered by a later pass, above every
 * number given so far. So a reader that has seen position n never finds a new line below n.
 * Writers pay nothing for it; readers number what they need before they read.
 */
export function createPostgresFeed(deps: {
  open: () => Promise<PostgresPool>;
  /** The quoted schema. */
  s: string;
  schema: string;
  /** The lease clock and `ttlMs` after it, as SQL; their parameters go to `params`. */
  leaseTimes: (params: unknown[], ttlMs: number) => { now: string; until: string };
}): FeedStore {
  const { open, s, schema, leaseTimes } = deps;

  /**
   * Numbers up to a batch of the committed lines not numbered yet, unless another process is
   * doing it now. A sequencer that stalls (a paused process, a network cut) holds the lock
   * no longer than its statement timeout, so that the others can go on numbering.
   */
  const sequence = async (): Promise<{ locked: boolean; numbered: number }> =>
    inTransaction(await open(), async (db) => {
      await db.query("SET LOCAL statement_timeout = '30s'");
      await db.query("SET LOCAL idle_in_transaction_session_timeout = '30s'");
      const { rows } = await db.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked",
        [`pi-payments:feed:${schema}`],
      );
      // Another sequencer holds it: what it numbers is read on the next poll.
      if (!rows[0]?.locked) return { locked: false, numbered: 0 };
      const result = await db.query(
        `WITH base AS (SELECT COALESCE(MAX(feed_seq), 0) AS n FROM ${s}.journal),
              todo AS (
                SELECT seq, row_number() OVER (ORDER BY seq) AS r FROM (
                  SELECT seq FROM ${s}.journal WHERE feed_seq IS NULL ORDER BY seq LIMIT ${SEQUENCE_BATCH}
                ) unnumbered
              )
         UPDATE ${s}.journal j SET feed_seq = base.n + todo.r FROM base, todo WHERE j.seq = todo.seq`,
      );
      return { locked: true, numbered: result.rowCount ?? 0 };
    });

  /**
   * The newest position once every line committed so far is numbered: a backlog (a store
   * that ran for months without a reader) is numbered batch by batch first, so that a
   * consumer started `from: "now"` does not start in the past.
   */
  const lastPosition = async (): Promise<number> => {
    for (;;) {
      const pass = await sequence();
      if (pass.locked && pass.numbered < SEQUENCE_BATCH) break;
      // Another sequencer is at work: wait for it rather than read a number it will pass.
      if (!pass.locked) await sleep(10);
    }
    const { rows } = await (await open()).query<{ n: string | number }>(
      `SELECT COALESCE(MAX(feed_seq), 0) AS n FROM ${s}.journal`,
    );
    return Number(rows[0]?.n ?? 0);
  };

  return {
    async readJournal(after, limit) {
      await sequence();
      const { rows } = await (await open()).query<JournalRow>(
        `SELECT * FROM ${s}.journal WHERE feed_seq > $1 ORDER BY feed_seq LIMIT $2`,
        [after, limit],
      );
      return rows.map(fromJournalRow);
    },

    lastPosition,

    async claimConsumer(name, owner, ttlMs, from) {
      const start = from === "now" ? await lastPosition() : 0;
      const params: unknown[] = [name, start, owner];
      const { now, until } = leaseTimes(params, ttlMs);
      // One statement: create the consumer, or take its lease if free, expired or ours.
      const { rows } = await (await open()).query<{ cursor: string | number }>(
        `INSERT INTO ${s}.consumers (name, cursor, owner, lease_expires_at, updated_at)
         VALUES ($1, $2, $3, ${until}, now())
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_expires_at = excluded.lease_expires_at, updated_at = now()
         WHERE consumers.owner IS NULL OR consumers.owner = excluded.owner OR consumers.lease_expires_at <= ${now}
         RETURNING cursor`,
        params,
      );
      return rows[0] ? { cursor: Number(rows[0].cursor) } : undefined;
    },

    async ackConsumer(name, owner, cursor, ttlMs) {
      const params: unknown[] = [name, owner, cursor];
      const { now, until } = leaseTimes(params, ttlMs);
      const result = await (await open()).query(
        `UPDATE ${s}.consumers SET cursor = GREATEST(cursor, $3), lease_expires_at = ${until}, updated_at = now()
         WHERE name = $1 AND owner = $2 AND lease_expires_at > ${now}`,
        params,
      );
      return result.rowCount === 1;
    },

    async releaseConsumer(name, owner) {
      await (await open()).query(
        `UPDATE ${s}.consumers SET owner = NULL, lease_expires_at = NULL, updated_at = now() WHERE name = $1 AND owner = $2`,
        [name, owner],
      );
    },

    async consumers(): Promise<ConsumerState[]> {
      const { rows } = await (await open()).query<ConsumerRow>(
        `SELECT * FROM ${s}.consumers ORDER BY name`,
      );
      return rows.map((row) => ({
        name: row.name,
        cursor: Number(row.cursor),
        owner: row.owner,
        leaseExpiresAt: row.lease_expires_at === null ? null : iso(row.lease_expires_at),
        updatedAt: iso(row.updated_at),
      }));
    },

    async addDeadLetter(letter) {
      const db = await open();
      await db.query(
        `INSERT INTO ${s}.dead_letters (consumer, seq, attempts, error, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (consumer, seq) DO NOTHING`,
        [letter.consumer, letter.seq, letter.attempts, letter.error, letter.at],
      );
      const { rows } = await db.query<DeadLetterRow>(
        `SELECT * FROM ${s}.dead_letters WHERE consumer = $1 AND seq = $2`,
        [letter.consumer, letter.seq],
      );
      return fromDeadLetterRow(rows[0]!);
    },

    async deadLetters(consumer) {
      const { rows } = await (await open()).query<DeadLetterRow>(
        consumer === undefined
          ? `SELECT * FROM ${s}.dead_letters ORDER BY id`
          : `SELECT * FROM ${s}.dead_letters WHERE consumer = $1 ORDER BY id`,
        consumer === undefined ? [] : [consumer],
      );
      return rows.map(fromDeadLetterRow);
    },

    async removeDeadLetter(id) {
      const result = await (await open()).query(`DELETE FROM ${s}.dead_letters WHERE id = $1`, [
        id,
      ]);
      return result.rowCount === 1;
    },
  };
}
