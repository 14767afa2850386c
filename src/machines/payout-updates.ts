import type { SignedTransaction } from "../adapters/types.js";
import type { ResultCodes } from "../domain/errors.js";
import {
  chainFailureCode,
  completionFailureCode,
  creationFailureCode,
  paymentStaysOpen,
  payoutFailure,
} from "./failure-codes.js";
import { errorOf, eventTime, isErrorEvent, outputOf } from "./payout-events.js";
import type {
  BuildOutput,
  CreateOutput,
  EffectError,
  FateOutput,
  PaymentOutput,
  PayoutContext,
  SubmitOutput,
} from "./types.js";

/** A change of the payout's context: a pure function of the context and the event. */
export type PayoutUpdate = (context: PayoutContext, event: unknown) => Partial<PayoutContext>;

/** Names each update, keeping its type a {@link PayoutUpdate} (the machine calls it so). */
const updates = <K extends string>(defined: Record<K, PayoutUpdate>): Record<K, PayoutUpdate> =>
  defined;

/** The wait before the next attempt: doubling from the base delay up to the ceiling. */
function backoff(context: PayoutContext, at: number): { retryAt: number; attempt: number } {
  const delay = Math.min(
    context.timing.maxDelayMs,
    context.timing.baseDelayMs * 2 ** Math.min(context.attempt, 20),
  );
  return { retryAt: at + delay, attempt: context.attempt + 1 };
}

/** A landed transaction kept as the payout's own: no envelope to resend, only its id. */
const landedRecord = (found: {
  txid: string;
  source: string;
  sequence: string;
}): SignedTransaction => ({
  envelope: "",
  txid: found.txid,
  source: found.source,
  sequence: found.sequence,
  maxTime: 0,
});

/**
 * How the payout machine's context changes, by action name: pure functions of the context
 * and the event, which the machine wraps in xstate's `assign`.
 */
export const payoutUpdates = updates({
  scheduleBackoff: (context, event) => {
    const error = isErrorEvent(event) ? errorOf(event) : undefined;
    return {
      ...backoff(context, error ? error.at : outputOf<object>(event).at),
      lastError: error ?? context.lastError,
    };
  },
  stepDone: () => ({ attempt: 0, retryAt: null }),
  noteError: (_context, event) => ({ lastError: errorOf(event) }),
  requestCancel: () => ({ cancelRequested: true }),
  requestRetry: () => ({ retryRequested: true }),
  askRecheck: () => ({ recheckPayment: true }),
  countCreateAttempt: (context, event) => ({
    createAttempts: context.createAttempts + 1,
    // Entered without a pending cancel, the effect may send a create request now.
    createRequestedAt: context.cancelRequested ? context.createRequestedAt : eventTime(event),
  }),
  storePayment: (_context, event) => {
    // An adopted payment was made by an earlier run: look on chain and at Pi before signing.
    const { payment, adopted } = outputOf<CreateOutput>(event);
    return {
      payment,
      paymentId: payment?.identifier ?? null,
      attempt: 0,
      retryAt: null,
      recheckPayment: adopted,
    };
  },
  storeCheckedPayment: (_context, event) => ({ payment: outputOf<PaymentOutput>(event).payment }),
  storeTransaction: (_context, event) => {
    const output = outputOf<BuildOutput>(event);
    return {
      transaction: output.status === "built" ? output.transaction : null,
      payment: output.payment,
      attempt: 0,
      retryAt: null,
      recheckPayment: false,
    };
  },
  adoptFoundTransaction: (_context, event) => {
    const output = outputOf<BuildOutput>(event);
    return {
      payment: output.payment,
      transaction: landedRecord(output.transaction),
      ledger: output.status === "landed" ? output.transaction.ledger : null,
      attempt: 0,
      retryAt: null,
      recheckPayment: false,
    };
  },
  storeLedger: (_context, event) => {
    const output = outputOf<SubmitOutput>(event);
    return {
      ledger: output.status === "applied" ? output.ledger : null,
      attempt: 0,
      retryAt: null,
    };
  },
  storeLanded: (context, event) => {
    const output = outputOf<FateOutput>(event);
    if (output.status !== "landed") return {};
    const landed = output.transaction;
    const ours = context.transaction;
    // Another envelope of this payment used the sequence and landed (its history says so):
    // that one is the payment's transaction, and ours can never land.
    const superseded = ours !== null && ours.txid !== landed.txid;
    return {
      ledger: landed.ledger,
      transaction: superseded ? landedRecord(landed) : ours,
      deadTransactions: superseded
        ? [...context.deadTransactions, { txid: ours.txid, reason: "sequence_used" }]
        : context.deadTransactions,
      attempt: 0,
      retryAt: null,
    };
  },
  buryTransaction: (context, event) => {
    const output = outputOf<FateOutput>(event);
    const reason = output.status === "dead" ? output.reason : "unknown";
    return {
      deadTransactions: context.transaction
        ? [...context.deadTransactions, { txid: context.transaction.txid, reason }]
        : context.deadTransactions,
      // A sequence used by someone else's transaction is contention, not a fault: only
      // envelopes that expired or failed count towards asking a person.
      deathsInARow: context.deathsInARow + (reason === "sequence_used" ? 0 : 1),
      transaction: null,
      // The wait before the next envelope grows with the deaths in a row.
      attempt: context.deathsInARow,
      retryAt: null,
      recheckPayment: true,
    };
  },
  countNotVerified: (context, event) => ({
    notVerified: context.notVerified + (errorOf(event).code === "PI_NOT_VERIFIED" ? 1 : 0),
  }),
  failBeforePayment: (_context, event) => {
    const error = errorOf(event);
    return {
      failure: payoutFailure(creationFailureCode(error.code), error, error.at, {
        resumeFrom: "created",
        paymentOpen: false,
      }),
      lastError: error,
    };
  },
  failMismatch: (_context, event) => ({
    failure: payoutFailure("PAYMENT_MISMATCH", undefined, outputOf<object>(event).at, {
      resumeFrom: "created",
      paymentOpen: false,
    }),
  }),
  failMismatchOpen: (_context, event) => ({
    failure: payoutFailure("PAYMENT_MISMATCH", errorOf(event), errorOf(event).at, {
      resumeFrom: "created",
      paymentOpen: true,
    }),
  }),
  failStored: (_context, event) => {
    const error = errorOf(event);
    return {
      failure: payoutFailure(error.code, error, error.at, {
        resumeFrom: "stored",
        paymentOpen: true,
      }),
      lastError: error,
    };
  },
  failCancelRefused: (context, event) => {
    const error = errorOf(event);
    return {
      failure: payoutFailure("CANCEL_REFUSED", error, error.at, {
        resumeFrom: context.failure?.resumeFrom === "submitted" ? "submitted" : "stored",
        paymentOpen: true,
      }),
      lastError: error,
      cancelRequested: false,
    };
  },
  failChain: (_context, event) => {
    const output = outputOf<SubmitOutput>(event);
    const codes: ResultCodes =
      output.status === "failed" ? output.resultCodes : { transaction: "unknown" };
    const code = chainFailureCode(codes);
    const error: EffectError = {
      name: "ChainError",
      code,
      message: `The chain refused the transaction: ${JSON.stringify(codes)}.`,
      retryable: false,
      details: { resultCodes: codes, txid: output.txid },
      at: output.at,
    };
    return {
      failure: payoutFailure(code, error, output.at, {
        resumeFrom: "submitted",
        paymentOpen: true,
      }),
      lastError: error,
    };
  },
  failTxStored: (_context, event) => {
    const error = errorOf(event);
    return {
      failure: payoutFailure(completionFailureCode(error.code), error, error.at, {
        resumeFrom: "txStored",
        paymentOpen: paymentStaysOpen(error.code),
      }),
      lastError: error,
    };
  },
  failNotLanding: (_context, event) => ({
    failure: payoutFailure("TRANSACTIONS_NOT_LANDING", undefined, outputOf<object>(event).at, {
      resumeFrom: "stored",
      paymentOpen: true,
    }),
  }),
  /** Its envelope is gone (provably dead): a retry signs anew from `stored`. */
  resumeFromStored: (context) => ({
    failure: context.failure && { ...context.failure, resumeFrom: "stored" },
  }),
  clearFailure: () => ({
    deathsInARow: 0,
    failure: null,
    attempt: 0,
    retryAt: null,
    recheckPayment: true,
    notVerified: 0,
    retryRequested: false,
  }),
  /** The failed payout's Pi payment is cancelled: the slot frees, and a retry starts afresh. */
  markPaymentReleased: (context, event) => ({
    payment: outputOf<PaymentOutput>(event).payment,
    // An envelope still on record here failed in its ledger: it can never land.
    deadTransactions: context.transaction
      ? [
          ...context.deadTransactions,
          { txid: context.transaction.txid, reason: "failed_in_ledger" },
        ]
      : context.deadTransactions,
    failure: context.failure && { ...context.failure, resumeFrom: "created", paymentOpen: false },
    transaction: null,
    attempt: 0,
    retryAt: null,
  }),
  /** Pi refused to cancel the failed payout's payment: it stays open, and so does the slot. */
  noteReleaseRefused: (_context, event) => ({ lastError: errorOf(event) }),
});
