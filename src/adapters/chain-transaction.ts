import { type Transaction, TransactionBuilder } from "@stellar/stellar-sdk";
import { amountToStroops, parseAmount } from "../domain/amount.js";
import type { TransactionRecord } from "./horizon-reader.js";
import type { ChainTransaction, ExpectedPayment } from "./types.js";

/** A Horizon transaction record as the library reads it, its operations decoded from the envelope. */
export function toChainTransaction(
  record: TransactionRecord,
  passphrase: string,
): ChainTransaction {
  const tx = TransactionBuilder.fromXDR(record.envelope_xdr, passphrase) as Transaction;
  return {
    txid: record.hash,
    ledger: record.ledger,
    successful: record.successful,
    memo: record.memo_type === "text" || record.memo_type === undefined ? record.memo : undefined,
    source: record.source_account,
    sequence: record.source_account_sequence,
    operationCount: tx.operations.length,
    payments: tx.operations.flatMap((op) =>
      op.type === "payment" && op.asset.isNative()
        ? [{ from: op.source ?? tx.source, to: op.destination, amount: parseAmount(op.amount) }]
        : [],
    ),
  };
}

/**
 * Why `tx` is not the payment's transaction, or undefined when it is ours. "Landed" means
 * all of it: successful, memo the payment id, one native payment from our wallet (which only
 * our seed can sign for, whichever account lent the sequence: ours, a channel of this
 * process, or of another process of the fleet) to the payment's recipient of the payment's
 * amount. Anything else carrying the memo (a stranger's dust payment to the wallet, say) is
 * somebody else's.
 */
export function whyNotOurs(
  tx: ChainTransaction,
  expected: ExpectedPayment,
  wallet: string,
): string | undefined {
  if (tx.memo !== expected.paymentId) return "another memo";
  if (!tx.successful) return "failed in its ledger";
  const [payment] = tx.payments;
  if (tx.operationCount !== 1 || !payment) return "not a single native payment";
  if (payment.from !== wallet) return `paid from ${payment.from}, not our wallet`;
  if (payment.to !== expected.to) return `paid to ${payment.to}, not the payment's recipient`;
  if (amountToStroops(payment.amount) !== amountToStroops(expected.amount))
    return `paid ${payment.amount}, not ${expected.amount}`;
  return undefined;
}
