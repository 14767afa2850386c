import type { ResultCodes, SerializedError } from "../domain/errors.js";

/**
 * Errors worth waiting out: the same step may succeed later unchanged (Pi or Horizon
 * down or slow, Pi not having seen a transaction yet, our own payout holding the slot).
 */
export function isTransient(error: SerializedError): boolean {
  return error.retryable;
}

/** The blocker of an `ongoing_payment_found` carries no key of ours: a person must decide. */
export const FOREIGN_ONGOING_PAYMENT = "FOREIGN_ONGOING_PAYMENT";

/** The failure reason for a chain refusal, named for the person who must act. */
export function chainFailureCode(codes: ResultCodes): string {
  const op = codes.operations?.find((code) => code !== "op_success");
  if (op === "op_underfunded" || codes.transaction === "tx_insufficient_balance")
    return "INSUFFICIENT_FUNDS";
  if (op === "op_no_destination") return "DESTINATION_MISSING";
  if (codes.transaction === "tx_bad_auth" || codes.transaction === "tx_bad_auth_extra")
    return "WALLET_SIGNATURE_REFUSED";
  if (codes.transaction === "tx_insufficient_fee") return "FEE_TOO_LOW";
  return "TRANSACTION_REJECTED";
}

/** Result codes after which the envelope's fate must be looked up (it may have landed, or be dead). */
export function needsFateCheck(codes: ResultCodes): boolean {
  return codes.transaction === "tx_bad_seq" || codes.transaction === "tx_too_late";
}

/** Human explanations of the failure reasons the machine itself names. */
export const failureMessages: Record<string, string> = {
  INSUFFICIENT_FUNDS:
    "The app wallet lacks the funds for this payout. Top it up, then retry the payout.",
  DESTINATION_MISSING:
    "The user's wallet does not exist on chain. Ask the user to activate it, then retry.",
  WALLET_SIGNATURE_REFUSED: "The chain refused the wallet's signature: check the wallet seed.",
  FEE_TOO_LOW: "The chain wants a higher fee than configured.",
  TRANSACTION_REJECTED: "The chain refused the transaction (see the result codes).",
  FOREIGN_ONGOING_PAYMENT:
    "Pi holds an incomplete payment of this app that this library did not create. Complete or cancel it (see recover()), then retry.",
  PAYMENT_MISMATCH:
    "Pi returned a payment that differs from what was asked; it was cancelled and nothing was signed.",
  PAID_BUT_PAYMENT_CANCELLED:
    "The transaction landed, but Pi had cancelled the payment: the user was paid. Reconcile with Pi support.",
  TXID_MISMATCH:
    "Pi linked another transaction to this payment. Look at both before doing anything.",
  NOT_VERIFIED:
    "Pi does not verify the landed transaction. Check it on chain and with Pi, then retry.",
  CANCEL_REFUSED: "Pi refused to cancel the payment.",
};
