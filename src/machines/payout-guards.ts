import { paymentMismatches } from "../domain/check-payment.js";
import { errorOf, outputOf } from "./payout-events.js";
import { needsFateCheck } from "./submit-outcomes.js";
import type {
  BuildOutput,
  CreateOutput,
  FateOutput,
  PayoutContext,
  SubmitOutput,
} from "./types.js";

type Guard = (args: { context: PayoutContext; event: unknown }) => boolean;

/**
 * The payout machine's guards, by name: each a question about the context and the event at
 * hand (an effect's result, or a person's command). No I/O, no clock.
 */
export const payoutGuards = {
  /** The same step may succeed later unchanged (Pi or Horizon down, not yet seen, busy). */
  transient: ({ event }) => errorOf(event).retryable,
  /** A create that may have made a payment (no answer, or one that does not parse): look before concluding. */
  createMayHaveHappened: ({ event }) =>
    errorOf(event).retryable || errorOf(event).details?.outcomeUnknown === true,
  foundNothing: ({ event }) => outputOf<CreateOutput>(event).payment === null,
  createMayStillLand: ({ context, event }) =>
    outputOf<CreateOutput>(event).payment === null &&
    context.createRequestedAt !== null &&
    outputOf<CreateOutput>(event).at < context.createRequestedAt + context.timing.createGraceMs,
  matchesIntent: ({ context, event }) => {
    const { payment, adopted } = outputOf<CreateOutput>(event);
    if (payment === null) return false;
    const mismatches = paymentMismatches(payment, {
      walletAddress: context.walletAddress,
      network: context.network,
      amount: context.intent.amount,
      uid: context.intent.uid,
    });
    // An adopted payment (made by an earlier run) may carry our own landed transaction:
    // the check before signing looks it up on chain instead of refusing the payment.
    return mismatches.every((m) => adopted && m.field === "transaction");
  },
  cancelRequested: ({ context }) => context.cancelRequested,
  retryRequested: ({ context }) => context.retryRequested === true,
  neverTriedCreate: ({ context }) => context.createAttempts === 0,
  alreadyLanded: ({ event }) => outputOf<BuildOutput>(event).status === "landed",
  paymentCancelledByPi: ({ event }) => {
    const mismatches = (errorOf(event).details?.mismatches ?? []) as Array<{ field: string }>;
    return (
      errorOf(event).code === "PAYMENT_MISMATCH" &&
      mismatches.every((m) => m.field === "status.cancelled")
    );
  },
  applied: ({ event }) => outputOf<SubmitOutput>(event).status === "applied",
  refusedMaybeLanded: ({ event }) => {
    const output = outputOf<SubmitOutput>(event);
    return output.status === "failed" && needsFateCheck(output.resultCodes);
  },
  refused: ({ event }) => outputOf<SubmitOutput>(event).status === "failed",
  /** Refused, and in a ledger (the hash was found there): its sequence is used, it can never land. */
  refusedInLedger: ({ event }) => {
    const output = outputOf<SubmitOutput>(event);
    return output.status === "failed" && output.inLedger;
  },
  landed: ({ event }) => outputOf<FateOutput>(event).status === "landed",
  dead: ({ event }) => outputOf<FateOutput>(event).status === "dead",
  deadTooOften: ({ context, event }) => {
    const fate = outputOf<FateOutput>(event);
    return (
      fate.status === "dead" &&
      fate.reason !== "sequence_used" &&
      context.deathsInARow + 1 >= context.timing.maxDeadEnvelopes
    );
  },
  notVerifiedTooOften: ({ context, event }) =>
    errorOf(event).code === "PI_NOT_VERIFIED" &&
    context.notVerified + 1 >= context.timing.maxNotVerified,
  noPaymentOpen: ({ context }) => context.failure === null || !context.failure.paymentOpen,
  failedBeforeTransaction: ({ context }) =>
    context.paymentId !== null &&
    (context.failure?.resumeFrom === "created" || context.failure?.resumeFrom === "stored"),
  // A failure in submitted resumes there only with its envelope on record to look at.
  failedInSubmitted: ({ context }) =>
    context.failure?.resumeFrom === "submitted" && context.transaction !== null,
  resumesFromCreated: ({ context }) => context.failure?.resumeFrom === "created",
  resumesFromStored: ({ context }) => context.failure?.resumeFrom === "stored",
  resumesFromSubmitted: ({ context }) =>
    context.failure?.resumeFrom === "submitted" && context.transaction !== null,
} satisfies Record<string, Guard>;
