/** The reasons a payout stops for a person that the machine itself names: what happened, what to do. */
export const failureReasons = {
  INSUFFICIENT_FUNDS: {
    meaning: "The app wallet lacks the funds for this payout.",
    action: "Top the wallet up, then retry the payout.",
  },
  DESTINATION_MISSING: {
    meaning: "The user's wallet does not exist on chain.",
    action: "Ask the user to activate it, then retry.",
  },
  WALLET_SIGNATURE_REFUSED: {
    meaning: "The chain refused the wallet's signature.",
    action: "Check the wallet seed, then retry.",
  },
  FEE_TOO_LOW: {
    meaning: "The chain wants a higher fee than configured.",
    action: "Raise the fee, then retry.",
  },
  TRANSACTION_REJECTED: {
    meaning: "The chain refused the transaction (see the result codes).",
    action: "Look at the result codes, then retry or cancel.",
  },
  FOREIGN_ONGOING_PAYMENT: {
    meaning: "Pi holds an incomplete payment of this app that this library did not create.",
    action: "Complete or cancel it (recover() lists it), then retry.",
  },
  PAYMENT_MISMATCH: {
    meaning:
      "Pi returned a payment that differs from what was asked; it was cancelled and nothing was signed.",
    action: "Look at the mismatches; retry creates a new payment.",
  },
  PAID_BUT_PAYMENT_CANCELLED: {
    meaning: "The transaction landed, but Pi had cancelled the payment: the user was paid.",
    action: "Reconcile with Pi support; do not pay again.",
  },
  TXID_MISMATCH: {
    meaning: "Pi linked another transaction to this payment.",
    action: "Look at both transactions before doing anything.",
  },
  NOT_VERIFIED: {
    meaning: "Pi does not verify the landed transaction.",
    action: "Check it on chain and with Pi, then retry.",
  },
  CANCEL_REFUSED: {
    meaning: "Pi refused to cancel the payment.",
    action: "Look at the payment on Pi; retry or complete it.",
  },
  TRANSACTIONS_NOT_LANDING: {
    meaning: "Envelope after envelope expired or lost its sequence number without landing.",
    action:
      "Check that the chain's clock and the time bound agree and that nothing else uses the wallet; then retry.",
  },
} as const satisfies Record<string, { meaning: string; action: string }>;

/** A reason a payout stops that the machine itself names. */
export type FailureCode = keyof typeof failureReasons;
