import type { JournalEntry, StoredPayout } from "./types.js";

/**
 * A payouts row as the SQL stores read it. The dialects differ only in types: SQLite gives
 * booleans as 0/1, times as the ISO strings we wrote and lease expiries as ms on its clock;
 * PostgreSQL gives booleans, `Date`s (or strings, from PGlite) and, for bigint columns, strings.
 */
export interface PayoutRow {
  key: string;
  intent: string;
  state: string;
  state_detail: string;
  snapshot: string;
  version: number;
  payment_id: string | null;
  txid: string | null;
  settled: boolean | number;
  holds_slot: boolean | number;
  created_at: Date | string;
  updated_at: Date | string;
  lease_owner: string | null;
  lease_expires_at: Date | string | number | null;
  hook_failure: string | null;
}

/** A journal row as the SQL stores read it. */
export interface JournalRow {
  seq: string | number;
  key: string;
  at: Date | string;
  from_state: string | null;
  to_state: string;
  event: string;
  details: string;
  version: number;
  owner: string | null;
  view: string | null;
  /** PostgreSQL only: the line's place in the feed, given after commit (null until then). */
  feed_seq?: string | number | null;
}

/** An ISO 8601 time as `toISOString()` writes it: what SQLite gives back as stored. */
const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * A time in the form `toISOString()` writes. SQLite's times are already in it (we wrote
 * them so) and are handed back as they are: parsing and printing each again is a good part
 * of reading a feed line. PostgreSQL's `Date`s and text in other forms are converted.
 */
const iso = (value: Date | string | number) =>
  typeof value === "string" && CANONICAL_ISO.test(value) ? value : new Date(value).toISOString();
const flag = (value: boolean | number) => value === true || value === 1;

/** The stored payout a row holds. */
export function fromPayoutRow(row: PayoutRow): StoredPayout {
  return {
    key: row.key,
    intent: JSON.parse(row.intent),
    state: row.state as StoredPayout["state"],
    stateDetail: row.state_detail,
    snapshot: JSON.parse(row.snapshot),
    version: Number(row.version),
    paymentId: row.payment_id,
    txid: row.txid,
    atRest: flag(row.settled),
    holdsSlot: flag(row.holds_slot),
    lease:
      row.lease_owner === null || row.lease_expires_at === null
        ? null
        : { owner: row.lease_owner, expiresAt: iso(row.lease_expires_at) },
    hookFailure: row.hook_failure === null ? null : JSON.parse(row.hook_failure),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** The journal entry a row holds. */
export function fromJournalRow(row: JournalRow): JournalEntry {
  return {
    seq: Number(row.seq),
    key: row.key,
    at: iso(row.at),
    from: row.from_state,
    to: row.to_state,
    event: row.event,
    details: JSON.parse(row.details),
    version: Number(row.version),
    owner: row.owner,
    view: row.view === null || row.view === undefined ? null : JSON.parse(row.view),
    position:
      row.feed_seq === undefined
        ? Number(row.seq)
        : row.feed_seq === null
          ? null
          : Number(row.feed_seq),
  };
}
