/** What a Pi error code means for a caller: may it retry, and what to do. */
export interface PiCodeAdvice {
  retryable: boolean;
  advice: string;
}

/**
 * Every error code Pi is known to send (PI-PLATFORM.md §1), with what to do about it.
 * Our error `code` is `PI_` + Pi's code in upper case; Pi's own stays in `piCode`.
 */
export const piErrorCodes = {
  payment_not_found: {
    retryable: false,
    advice: "Check the payment id; it belongs to another app or does not exist.",
  },
  invalid_amount: {
    retryable: false,
    advice: "Pi refused the amount: it must be positive with at most 7 decimals.",
  },
  invalid_arguments: {
    retryable: false,
    advice: "Pi refused the request's fields; check memo, uid and metadata.",
  },
  invalid_metadata: { retryable: false, advice: "metadata must be a JSON object." },
  unknown_error: { retryable: true, advice: "Pi failed internally; retry later." },
  ongoing_payment_found: {
    retryable: false,
    advice:
      "Another payment of this app is incomplete (see error.payment): complete or cancel it, or run recover().",
  },
  user_not_found: {
    retryable: false,
    advice: "This uid has not used your app (or belongs to another app's users).",
  },
  missing_scope: {
    retryable: false,
    advice: "The user has not granted the payments scope; ask them to sign in again.",
  },
  missing_wallet: {
    retryable: false,
    advice: "The user has no Pi wallet yet; they must create one first.",
  },
  invalid_address: {
    retryable: false,
    advice: "The user's wallet address is invalid on Pi's side; contact Pi support.",
  },
  altered_amount: {
    retryable: false,
    advice: "The amount changed between the steps of the payment; start again.",
  },
  too_many_payments: {
    retryable: true,
    advice: "Pi is limiting how many payments your app creates; slow down and retry later.",
  },
  too_many_cancelled_payments: {
    retryable: false,
    advice:
      "Pi limits cancellations; stop cancelling and recreating payments, and complete the open ones.",
  },
  already_completed: {
    retryable: false,
    advice: "The payment is already completed; nothing to do.",
  },
  cancelled_payment: {
    retryable: false,
    advice: "The payment was cancelled; create a new one if the payout is still owed.",
  },
  missing_txid: { retryable: false, advice: "Completing needs the transaction id (txid)." },
  txid_mismatch: {
    retryable: false,
    advice: "Pi linked another transaction to this payment; look it up before doing anything else.",
  },
  not_verified: {
    retryable: true,
    advice: "Pi has not seen or verified the transaction yet; retry in a few seconds.",
  },
  verification_failed: {
    retryable: false,
    advice:
      "The transaction does not match the payment (see verificationError); the payment needs a person.",
  },
  payment_tx_present: {
    retryable: false,
    advice:
      "A transaction is linked to the payment, so it cannot be cancelled; complete it instead.",
  },
  forbidden: { retryable: false, advice: "Pi does not allow this call for this payment." },
} as const satisfies Record<string, PiCodeAdvice>;

/** An error code Pi is known to send, as Pi spells it. */
export type PiCode = keyof typeof piErrorCodes;

/** Our code for one of Pi's: `PI_` + Pi's code in upper case. */
export type PiErrorCode = `PI_${Uppercase<PiCode>}`;

/** Whether Pi's `error` field is one this library knows. */
export function isKnownPiCode(code: string): code is PiCode {
  return Object.hasOwn(piErrorCodes, code);
}

/** Our code for a known Pi code. */
export function piErrorCode(code: PiCode): PiErrorCode {
  return `PI_${code.toUpperCase()}` as PiErrorCode;
}
