import { ChainError } from "../domain/errors.js";
import { type OurAccounts, toChainTransaction, whyNotOurs } from "./chain-transaction.js";
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
 * Pi's clock and the chain's may disagree a little: a search reads this much further back
 * than the payment's creation time, so that a transaction is never missed for a skew.
 */
const CLOCK_SKEW_SECONDS = 600;
const PAGE_SIZE = 200;

/**
 * Walks an account's history newest first, every page from a view at least as fresh as
 * `atLeastLedger` (a lagging instance would silently leave out the newest transactions),
 * until `visit` says stop. Resolves false when it ran out of history or pages.
 */
async function walkHistory(
  reader: HorizonReader,
  account: string,
  atLeastLedger: number,
  maxPages: number,
  visit: (record: TransactionRecord) => "stop" | "go on",
): Promise<boolean> {
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const viewed = await freshPage(reader, account, cursor, atLeastLedger);
    const records = viewed ?? [];
    for (const record of records) if (visit(record) === "stop") return true;
    if (records.length < PAGE_SIZE) return false;
    cursor = records[records.length - 1]!.paging_token;
  }
  return false;
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
    if (viewed.asOfLedger !== undefined && viewed.asOfLedger >= atLeastLedger) return viewed.value;
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
  context: { passphrase: string; ours: OurAccounts; limits: HistoryLimits },
  expected: ExpectedPayment,
  atLeastLedger: number,
): Promise<PaymentSearch> {
  const since =
    expected.createdAt === undefined
      ? undefined
      : Math.floor(Date.parse(expected.createdAt) / 1000) - CLOCK_SKEW_SECONDS;
  const search: PaymentSearch = { found: undefined, ignored: [] };
  let read = 0;
  await walkHistory(
    reader,
    context.ours.wallet,
    atLeastLedger,
    context.limits.maxPages,
    (record) => {
      read += 1;
      const created = Date.parse(record.created_at ?? "");
      if (since !== undefined && !Number.isNaN(created) && created / 1000 < since) return "stop";
      if (since === undefined && read > context.limits.recent) return "stop";
      if (record.memo !== expected.paymentId) return "go on";
      const tx = toChainTransaction(record, context.passphrase);
      const reason = whyNotOurs(tx, expected, context.ours);
      if (reason === undefined) {
        search.found = tx;
        return "stop";
      }
      search.ignored.push({ txid: tx.txid, reason });
      return "go on";
    },
  );
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
  await walkHistory(reader, source, atLeastLedger, maxPages, (record) => {
    if (record.source_account !== source) return "go on";
    const used = BigInt(record.source_account_sequence);
    if (used === wanted) user = record;
    // Newest first: an account's own sequence numbers only go down from here.
    return used <= wanted ? "stop" : "go on";
  });
  return user && toChainTransaction(user, passphrase);
}
