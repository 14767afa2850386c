import { amountToStroops, parseAmount } from "../domain/amount.js";
import type { PaymentDTO } from "../domain/payment-dto.js";
import type { LedgerTransaction } from "./chain-types.js";

/**
 * Why a transaction cannot complete a payment, or undefined when it can. Pi documents only
 * the two identifier codes; the amount, recipient, source and failure codes are the
 * sandbox's own names for checks Pi is documented to make.
 */
export function verificationError(
  payment: PaymentDTO,
  tx: LedgerTransaction,
  rules: { linkedElsewhere: boolean; acceptChannelTransactions: boolean },
): string | undefined {
  if (tx.memo !== payment.identifier) return "tx_memo_payment_identifier_mismatch";
  if (rules.linkedElsewhere) return "payment_already_linked_with_a_tx";
  if (!tx.successful) return "tx_failed";
  const [op] = tx.payments;
  if (!op || tx.payments.length !== 1) return "tx_amount_mismatch";
  if (op.from !== payment.from_address) return "tx_source_mismatch";
  if (!rules.acceptChannelTransactions && tx.sourceAccount !== payment.from_address)
    return "tx_source_mismatch";
  if (op.to !== payment.to_address) return "tx_recipient_mismatch";
  if (op.amount !== amountToStroops(parseAmount(payment.amount))) return "tx_amount_mismatch";
  return undefined;
}
