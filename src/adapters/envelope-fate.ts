import { type Transaction, TransactionBuilder } from "@stellar/stellar-sdk";
import { parseAmount } from "../domain/amount.js";
import { toChainTransaction, whyNotOurs } from "./chain-transaction.js";
import { sequenceUser } from "./history-search.js";
import type { HorizonReader } from "./horizon-reader.js";
import type { EnvelopeFate, ExpectedPayment, SignedTransaction } from "./types.js";

/** What deciding a fate needs besides Horizon. */
export interface FateContext {
  passphrase: string;
  /** Our app wallet: every payment of ours is paid from it. */
  wallet: string;
  maxPages: number;
}

/**
 * Whether a signed envelope landed, can still land, or never will (DESIGN P3), from
 * evidence only. Horizon is load-balanced, so each read may come from an instance that is
 * ledgers behind; a "not found" is counted only when the instance that said it had
 * ingested the ledger that makes the envelope dead:
 *
 * - expired: a ledger closed past the envelope's time bound, and the hash look-up answered
 *   as of that ledger or later, so no ledger that could hold the envelope was missed;
 * - sequence used: the source account's sequence passed the envelope's, and the history, in
 *   a view that holds the account's last change, names the transaction that used it. The wallet's sequence
 *   numbers are lent only by this library, so that transaction is identified, not inferred:
 *   our envelope itself (the hash look-up lagged), another envelope of the same payment
 *   (then the payment is paid: landed), or another payment's.
 *
 * The reads go ledger, account, then hash: a transaction that landed before the first read
 * is found by the later ones. Anything short of proof is `unknown`.
 */
export async function envelopeFate(
  reader: HorizonReader,
  context: FateContext,
  signed: SignedTransaction,
): Promise<EnvelopeFate> {
  const ledger = await reader.latestLedger();
  const account = await reader.account(signed.source);
  const lookup = await reader.transaction(signed.txid);
  if (lookup.value) {
    return lookup.value.successful
      ? { status: "landed", transaction: toChainTransaction(lookup.value, context.passphrase) }
      : { status: "dead", reason: "failed_in_ledger" };
  }
  const lookedUpTo = lookup.asOfLedger ?? 0;

  const closed = ledger.value;
  const expired = signed.maxTime > 0 && closed.closedAt > signed.maxTime;
  if (expired && lookedUpTo >= closed.sequence) return { status: "dead", reason: "expired" };
  const staleExpiry = {
    status: "unknown" as const,
    reason: `ledger ${closed.sequence} closed past the time bound, but the look-up answered as of ledger ${lookup.asOfLedger ?? "unknown"}`,
  };

  if (account.value === undefined) {
    return expired
      ? staleExpiry
      : {
          status: "unknown",
          reason: `the source account was not found as of ledger ${account.asOfLedger ?? "unknown"}`,
        };
  }
  if (BigInt(account.value.sequence) < BigInt(signed.sequence)) {
    return expired ? staleExpiry : { status: "pending" };
  }
  const user = await sequenceUser(
    reader,
    context.passphrase,
    signed.source,
    signed.sequence,
    // The transaction that used the sequence changed the account, at or before this ledger.
    account.value.lastModifiedLedger,
    context.maxPages,
  );
  if (user === undefined) {
    return {
      status: "unknown",
      reason: `sequence ${signed.sequence} is used, but the history does not show by which transaction`,
    };
  }
  if (user.txid === signed.txid) {
    return user.successful
      ? { status: "landed", transaction: user }
      : { status: "dead", reason: "failed_in_ledger" };
  }
  const expected = expectedOf(signed, context.passphrase);
  if (expected && whyNotOurs(user, expected, context.wallet) === undefined) {
    return { status: "landed", transaction: user };
  }
  return { status: "dead", reason: "sequence_used", usedBy: user.txid };
}

/** The payment an envelope makes, read back from its XDR (an adopted transaction has none). */
function expectedOf(signed: SignedTransaction, passphrase: string): ExpectedPayment | undefined {
  if (signed.envelope === "") return undefined;
  const tx = TransactionBuilder.fromXDR(signed.envelope, passphrase) as Transaction;
  const [op] = tx.operations;
  const memo = tx.memo.value;
  if (op?.type !== "payment" || memo === null || memo === undefined) return undefined;
  return { paymentId: memo.toString(), to: op.destination, amount: parseAmount(op.amount) };
}
