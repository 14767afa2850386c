// Fills a store with many payouts fast, as rows the store itself wrote: one payout is paid
// (and one enqueued) through the runtime on a scratch SQLite file, and its rows become the
// templates of bulk SQL inserts, with the key (and the Pi payment id) put in by the
// database. Each seeded payout is checked back through the store's own reads.
import { closeSync, fsyncSync, openSync } from "node:fs";
import Database from "better-sqlite3";
import { createSqliteStore } from "pi-payments/sqlite";
import { instantPayouts } from "./instant-adapters.mjs";
import { sqlitePath } from "./stores.mjs";

/** The template payouts' keys, replaced in every JSON text by the seeded key. */
const SETTLED = "seed-template-settled";
const UNSETTLED = "seed-template-unsettled";

/** Journal lines per seeded payout: the most a payout writes on the happy path. */
export const LINES_PER_SETTLED = 6;

/** The key of seeded payout `i` (1-based): sortable, so pages walk them in order. */
export const seededKey = (i) => `s-${String(i).padStart(7, "0")}`;

/**
 * The rows of a completed payout and of an enqueued one, as the SQLite store wrote them.
 * Cached: every seeding of the run uses the same.
 */
let templates;
async function rowTemplates() {
  if (templates) return templates;
  const path = sqlitePath("templates");
  const store = createSqliteStore({ path });
  const payouts = instantPayouts(store);
  await payouts.pay({ key: SETTLED, uid: "u", amount: 1, memo: "seeded" });
  await payouts.enqueue({ key: UNSETTLED, uid: "u", amount: 1, memo: "seeded" });
  await payouts.close();
  await store.close();
  const db = new Database(path, { readonly: true });
  const row = (key) => db.prepare("SELECT * FROM payouts WHERE key = ?").get(key);
  const lines = (key) => db.prepare("SELECT * FROM journal WHERE key = ? ORDER BY seq").all(key);
  templates = {
    settled: row(SETTLED),
    unsettled: row(UNSETTLED),
    settledLines: lines(SETTLED),
    unsettledLines: lines(UNSETTLED),
  };
  db.close();
  if (templates.settledLines.length !== LINES_PER_SETTLED)
    throw new Error(`The template payout wrote ${templates.settledLines.length} journal lines`);
  return templates;
}

/**
 * Which seeded payouts are unfinished: `unsettled` of them, spread evenly over the keys (so
 * that a page of unsettled payouts walks across the whole table's key range).
 */
export function unsettledEvery(total, unsettled) {
  const every = Math.floor(total / unsettled);
  if (every < 2) throw new RangeError("seed at most half the payouts unsettled");
  return every;
}

/**
 * Seeds `total` payouts into a SQLite store's file (`path`, schema already made, no store
 * open on it), of which
 * `unsettled` wait in `created` (one journal line each) and the others are completed (six
 * lines each). Lines carry the feed's view with `views`, else none (as lines written before
 * the feed existed: a history of a million payouts seeds in a fraction of the bytes). One
 * transaction of INSERT … SELECT over a recursive series.
 */
export async function seedSqlite(path, total, unsettled, { views = false } = {}) {
  const t = await rowTemplates();
  const every = unsettledEvery(total, unsettled);
  // No store may have the file open: the bulk insert runs without a journal (a crash of
  // the bench loses only the bench's file), and the file is put back in WAL mode after.
  const db = new Database(path);
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("cache_size = -262144");
  const series = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @total)`;
  const key = "printf('s-%07d', i)";
  const open = `(i % @every = 0 AND i / @every <= @unsettled)`;
  const pick = (column) =>
    `CASE WHEN ${open} THEN replace(@u_${column}, '${UNSETTLED}', ${key}) ELSE replace(@s_${column}, '${SETTLED}', ${key}) END`;
  const params = { total, every, unsettled };
  for (const column of ["intent", "snapshot", "state", "state_detail"]) {
    params[`u_${column}`] = t.unsettled[column];
    params[`s_${column}`] = t.settled[column];
  }
  params.s_payment_id = t.settled.payment_id;
  params.s_txid = t.settled.txid;
  db.transaction(() => {
    db.prepare(
      `INSERT INTO payouts (key, intent, state, state_detail, snapshot, version, payment_id, txid, settled, holds_slot, created_at, updated_at, lease_owner, lease_expires_at, hook_failure)
       ${series}
       SELECT ${key}, ${pick("intent")}, ${pick("state")}, ${pick("state_detail")}, ${pick("snapshot")},
              CASE WHEN ${open} THEN 1 ELSE ${LINES_PER_SETTLED} END,
              CASE WHEN ${open} THEN NULL ELSE printf('P%027d', i) END,
              CASE WHEN ${open} THEN NULL ELSE @s_txid END,
              CASE WHEN ${open} THEN 0 ELSE 1 END,
              CASE WHEN ${open} THEN 1 ELSE 0 END,
              strftime('%Y-%m-%dT%H:%M:%fZ', 1700000000 + i, 'unixepoch'),
              strftime('%Y-%m-%dT%H:%M:%fZ', 1700000000 + i, 'unixepoch'),
              NULL, NULL, NULL
       FROM n`,
    ).run(params);
    // The journal: explicit seqs in payout order, LINES_PER_SETTLED apart.
    const line = db.prepare(
      `INSERT INTO journal (seq, key, at, from_state, to_state, event, details, version, owner, view)
       ${series}
       SELECT (i - 1) * ${LINES_PER_SETTLED} + @version, ${key}, strftime('%Y-%m-%dT%H:%M:%fZ', 1700000000 + i, 'unixepoch'),
              @from_state, @to_state, @event, @details, @version, @owner,
              CASE WHEN @view IS NULL THEN NULL ELSE replace(@view, @template, ${key}) END
       FROM n WHERE (${open}) = @open`,
    );
    const viewOf = (l) => (views ? l.view : null);
    for (const l of t.unsettledLines)
      line.run({ ...params, ...lineParams(l), view: viewOf(l), template: UNSETTLED, open: 1 });
    for (const l of t.settledLines)
      line.run({ ...params, ...lineParams(l), view: viewOf(l), template: SETTLED, open: 0 });
  })();
  db.pragma("journal_mode = WAL");
  db.close();
  // Written without syncing, the file's pages wait in the kernel's cache: the store's first
  // checkpoint would flush them all (seconds, for a million payouts) inside a measured call.
  const fd = openSync(path, "r+");
  fsyncSync(fd);
  closeSync(fd);
  return { total, unsettled: Math.min(unsettled, Math.floor(total / every)), every };
}

/** A template journal line's columns as named parameters. */
function lineParams(line) {
  return {
    from_state: line.from_state,
    to_state: line.to_state,
    event: line.event,
    details: line.details,
    version: line.version,
    owner: line.owner,
  };
}

/**
 * The same on PostgreSQL (`pool`, `schema`, the store's tables already made): INSERT …
 * SELECT over generate_series, feed positions given (as the sequencer would), then ANALYZE
 * (autovacuum's statistics, which a live database has).
 */
export async function seedPostgres(pool, schema, total, unsettled, { views = false } = {}) {
  const t = await rowTemplates();
  const every = unsettledEvery(total, unsettled);
  const s = `"${schema}"`;
  const key = "'s-' || lpad(i::text, 7, '0')";
  const open = `(i % ${every} = 0 AND i / ${every} <= ${unsettled})`;
  const client = await pool.connect();
  try {
    await client.query("SET synchronous_commit = off");
    await client.query("BEGIN");
    const values = [];
    const param = (value) => {
      values.push(value);
      return `$${values.length}`;
    };
    const pick = (column) =>
      `CASE WHEN ${open} THEN replace(${param(t.unsettled[column])}::text, '${UNSETTLED}', ${key}) ELSE replace(${param(t.settled[column])}::text, '${SETTLED}', ${key}) END`;
    await client.query(
      `INSERT INTO ${s}.payouts (key, intent, state, state_detail, snapshot, version, payment_id, txid, settled, holds_slot, created_at, updated_at, lease_owner, lease_expires_at, hook_failure)
       SELECT ${key}, ${pick("intent")}, ${pick("state")}, ${pick("state_detail")}, ${pick("snapshot")},
              CASE WHEN ${open} THEN 1 ELSE ${LINES_PER_SETTLED} END,
              CASE WHEN ${open} THEN NULL ELSE 'P' || lpad(i::text, 27, '0') END,
              CASE WHEN ${open} THEN NULL ELSE ${param(t.settled.txid)}::text END,
              NOT ${open}, ${open},
              to_timestamp(1700000000 + i), to_timestamp(1700000000 + i),
              NULL, NULL, NULL
       FROM generate_series(1, ${total}) i`,
      values,
    );
    for (const [lines, isOpen, template] of [
      [t.unsettledLines, true, UNSETTLED],
      [t.settledLines, false, SETTLED],
    ]) {
      for (const l of lines) {
        const seq = `(i - 1) * ${LINES_PER_SETTLED} + ${l.version}`;
        await client.query(
          `INSERT INTO ${s}.journal (seq, feed_seq, key, at, from_state, to_state, event, details, version, owner, view)
           SELECT ${seq}, ${seq}, ${key}, to_timestamp(1700000000 + i), $1, $2, $3, $4, $5, $6, replace($7::text, $8::text, ${key})
           FROM generate_series(1, ${total}) i WHERE ${open} = ${isOpen}`,
          [
            l.from_state,
            l.to_state,
            l.event,
            l.details,
            l.version,
            l.owner,
            views ? l.view : null,
            template,
          ],
        );
      }
    }
    await client.query(
      `SELECT setval(pg_get_serial_sequence('${s}.journal', 'seq'), (SELECT MAX(seq) FROM ${s}.journal))`,
    );
    await client.query("COMMIT");
    await client.query(`ANALYZE ${s}.payouts`);
    await client.query(`ANALYZE ${s}.journal`);
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
  return { total, unsettled: Math.min(unsettled, Math.floor(total / every)), every };
}

/**
 * Reads seeded payouts back through the store: a completed one and an unfinished one, each
 * with its journal. Throws if the store does not read what was seeded.
 */
export async function checkSeeded(store, seeded) {
  const settledKey = seededKey(1);
  const openKey = seededKey(seeded.every);
  const settled = await store.get(settledKey);
  const open = await store.get(openKey);
  const problems = [];
  if (settled?.key !== settledKey || settled.state !== "completed" || !settled.atRest)
    problems.push(`${settledKey} reads back as ${settled?.state}`);
  if (settled?.snapshot?.context?.key !== settledKey)
    problems.push(`${settledKey}'s snapshot holds another key`);
  const lines = await store.journal(settledKey);
  if (lines.length !== LINES_PER_SETTLED || lines.some((l) => l.key !== settledKey))
    problems.push(`${settledKey} has ${lines.length} journal lines`);
  if (open?.key !== openKey || open.state !== "created" || open.atRest)
    problems.push(`${openKey} reads back as ${open?.state}`);
  if ((await store.journal(openKey)).length !== 1) problems.push(`${openKey}'s journal`);
  if (problems.length > 0) throw new Error(`Seeding is wrong: ${problems.join("; ")}`);
}
