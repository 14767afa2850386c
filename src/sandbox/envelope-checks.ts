import { Keypair, type Operation, type Transaction } from "@stellar/stellar-sdk";
import { amountToStroops, parseAmount } from "../domain/amount.js";
import type { TxResultCodes } from "./result-codes.js";

/** `tx_too_early` or `tx_too_late` for a ledger closing at `closeTime` (unix seconds), else undefined. */
export function checkTimeBounds(tx: Transaction, closeTime: number): TxResultCodes | undefined {
  const minTime = Number(tx.timeBounds?.minTime ?? 0);
  const maxTime = Number(tx.timeBounds?.maxTime ?? 0);
  if (minTime > closeTime) return { transaction: "tx_too_early" };
  if (maxTime !== 0 && maxTime < closeTime) return { transaction: "tx_too_late" };
  return undefined;
}

/** True for the one operation the sandbox applies: a positive native payment. */
export function isWellFormed(op: Operation): boolean {
  if (op.type !== "payment") return false;
  if (!op.asset.isNative()) return false;
  try {
    return amountToStroops(parseAmount(op.amount)) > 0n;
  } catch {
    return false;
  }
}

/** Every signer the transaction needs (its source and each operation's source) signed it, and no one else. */
export function isProperlySigned(tx: Transaction): boolean {
  const required = new Set([tx.source, ...tx.operations.map((op) => op.source ?? tx.source)]);
  const hash = tx.hash();
  const used = new Set<number>();
  for (const signer of required) {
    const keypair = Keypair.fromPublicKey(signer);
    const hint = keypair.signatureHint();
    const index = tx.signatures.findIndex(
      (sig, i) => !used.has(i) && sig.hint().equals(hint) && keypair.verify(hash, sig.signature()),
    );
    if (index < 0) return false;
    used.add(index);
  }
  return used.size === tx.signatures.length;
}
