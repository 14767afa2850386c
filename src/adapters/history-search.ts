import { ChainError } from "../domain/errors.js";
import { toChainTransaction, whyNotOurs } from "./chain-transaction.js";
import type { HorizonReader, TransactionRecord } from "./horizon-reader.js";
import type { ChainTransaction, ExpectedPayment, PaymentSearch } from "./types.js";

/** How the history is read: page size, and how far back without a creation time. */
export interface HistoryLimits {
  /** Recent transactions read when the payment's creation time is not known. */
  recent: number;
  /** Pages read at most before giving up (the search then fails, and is retried). */
  maxPages: number;
}

/**
 * Pi's clock, ours and the chain's may disagree: a search reads this much further back than
 * the earliest time the payment can have existed, so that a transaction is never missed for
 * a skew. Pages are cheap next to a payment made twice.
 */
const CLOCK_SKEW_SECONDS = 3600;

/**
 * The earliest time (unix seconds) a transaction of the payment can have: its creation as
 * Pi tells it or as the caller saw its request go out, whichever is earlier, less the skew;
 * undefined when neither is known. A time without an offset is read as UTC, never as the
 * local time of the process that reads it.
 */
export function searchSince(expected: ExpectedPayment): number | undefined {
  const told = expected.createdAt;
  const parsed =
    told === undefined
      ? Number.NaN
      : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(told) ? told : `${told}Z`);
  const known = [parsed, expected.requestedAt ?? Number.NaN].filter((t) => !Number.isNaN(t));
  if (known.length === 0) return undefined;
  return Math.floor(Math.min(...known) / 1000) - CLOCK_SKEW_SECONDS;
}

const PAGE_SIZE = 200;

/** How a walk through a history ended: told to stop, at its oldest transaction, or out of pages. */
type WalkEnd = "stopped" | "all read" | "out of pages";

/**
 * Walks an account's history newest first, every page from a view at least as fresh as
 * `atLeastLedger` (a lagging instance would silently leave out the newest transactions),
 * until `visit` says stop.
 */
async function walkHistory(
  reader: HorizonReader,
  account: string,
  atLeastLedger: number,
  maxPages: number,
  visit: (record: TransactionRecord) => "stop" | "go on",
): Promise<WalkEnd> {
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const viewed = await freshPage(reader, account, cursor, atLeastLedger);
    const records = viewed ?? [];
    for (const record of records) if (visit(record) === "stop") return "stopped";
    if (records.length < PAGE_SIZE) return "all read";
    cursor = records[records.length - 1]!.paging_token;
  }
  return "out of pages";
}

/** A search that could not read as far back as its answer needs proves nothing. */
function incomplete(what: string, pages: number): ChainError {
  return new ChainError(
    `Searching ${what}, the history held more than ${pages} pages of newer transactions; nothing was concluded from the part read. Raise historyMaxPages to read further.`,
    "HISTORY_SEARCH_INCOMPLETE",
    { retryable: true },
  );
}

/** A page from a view at least as fresh as `atLeastLedger`; a few tries, since each may hit another instance. */
async function freshPage(
  reader: HorizonReader,
  account: string,
  cursor: string | undefined,
  atLeastLedger: number,
): Promise<TransactionRecord[] | undefined> {
  let seen: number | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const viewed = await reader.accountTransactions(account, { limit: PAGE_SIZE, cursor });
    // An instance that lists a transaction of ledger N has ingested N: evidence even where a
    // proxy stripped the Latest-Ledger header. (Only the first page is newest-first at the top.)
    const newest = cursor === undefined ? (viewed.value?.[0]?.ledger ?? 0) : 0;
    const asOf = Math.max(viewed.asOfLedger ?? 0, newest);
    if (asOf >= atLeastLedger) return viewed.value;
    seen = viewed.asOfLedger;
  }
  throw new ChainError(
    `Horizon's history of ${account} answered as of ledger ${seen ?? "unknown"}, older than ledger ${atLeastLedger} that the decision needs; nothing was concluded from it. Retry later.`,
    "HORIZON_STALE_VIEW",
    { retryable: true },
  );
}

/**
 * The payment's landed transaction in the wallet's history, read back to the payment's
 * creation (less a clock skew) in views at least as fresh as `atLeastLedger`. Transactions
 * that carry the payment's memo but are not ours in every respect are returned as ignored.
 */
export async function searchPayment(
  reader: HorizonReader,
  context: { passphrase: string; wallet: string; limits: HistoryLimits },
  expected: ExpectedPayment,
  atLeastLedger: number,
): Promise<PaymentSearch> {
  const since = searchSince(expected);
  const search: PaymentSearch = { found: undefined, ignored: [] };
  let read = 0;
  const end = await walkHistory(
    reader,
    context.wallet,
    atLeastLedger,
    context.limits.maxPages,
    (record) => {
      read += 1;
      const created = Date.parse(record.created_at ?? "");
      // Horizon writes UTC with a Z; a record without a time is read past, never stopped at.
      if (since !== undefined && !Number.isNaN(created) && created / 1000 < since) return "stop";
      if (since === undefined && read > context.limits.recent) return "stop";
      if (record.memo !== expected.paymentId) return "go on";
      const tx = toChainTransaction(record, context.passphrase);
      const reason = whyNotOurs(tx, expected, context.wallet);
      if (reason === undefined) {
        search.found = tx;
        return "stop";
      }
      search.ignored.push({ txid: tx.txid, reason });
      return "go on";
    },
  );
  // Out of pages before the payment's creation: a transaction of it may be further back.
  if (end === "out of pages" && since !== undefined && !search.found) {
    throw incomplete(
      `the wallet's history for payment ${expected.paymentId}`,
      context.limits.maxPages,
    );
  }
  return search;
}

/**
 * The transaction that used `sequence` of `source`, from views at least as fresh as
 * `atLeastLedger` (the account read that showed the sequence used), or undefined when the
 * history does not show it.
 */
export async function sequenceUser(
  reader: HorizonReader,
  passphrase: string,
  source: string,
  sequence: string,
  atLeastLedger: number,
  maxPages: number,
): Promise<ChainTransaction | undefined> {
  const wanted = BigInt(sequence);
  let user: TransactionRecord | undefined;
  const end = await walkHistory(reader, source, atLeastLedger, maxPages, (record) => {
    if (record.source_account !== source) return "go on";
    const used = BigInt(record.source_account_sequence);
    if (used === wanted) user = record;
    // Newest first: an account's own sequence numbers only go down from here.
    return used <= wanted ? "stop" : "go on";
  });
  if (end === "out of pages")
    throw incomplete(`which transaction used sequence ${sequence}`, maxPages);
  return user && toChainTransaction(user, passphrase);
}
