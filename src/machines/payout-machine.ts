import { assign, fromPromise, setup } from "xstate";
import { paymentMismatches } from "../domain/check-payment.js";
import type { ResultCodes } from "../domain/errors.js";
import {
  chainFailureCode,
  FOREIGN_ONGOING_PAYMENT,
  failureMessage,
  isTransient,
  needsFateCheck,
} from "./classify.js";
import type {
  BuildInput,
  BuildOutput,
  CancelInput,
  CompleteInput,
  CreateInput,
  CreateOutput,
  EffectError,
  FateInput,
  FateOutput,
  PaymentOutput,
  PayoutCommand,
  PayoutContext,
  PayoutFailure,
  PayoutInput,
  SlotInput,
  Stamped,
  SubmitInput,
  SubmitOutput,
  WaitInput,
} from "./types.js";

/**
 * Effects are named here and implemented by the runtime (`createActivities`). Run
 * without them, the machine says so instead of doing anything.
 */
const notProvided = (name: string) => async (): Promise<never> => {
  throw new Error(`The payout machine's "${name}" effect was not provided.`);
};

type DoneEvent<T> = { output: Stamped<T> };
type ErrorEvent = { error: EffectError };

const errorOf = (event: unknown): EffectError => (event as ErrorEvent).error;

/** The runtime time an event carries (commands have `at`, effect results carry it inside). */
function eventTime(event: unknown): number {
  const e = event as { at?: number; output?: { at?: number }; error?: { at?: number } };
  return e.at ?? e.output?.at ?? e.error?.at ?? 0;
}
const outputOf = <T>(event: unknown): Stamped<T> => (event as DoneEvent<T>).output;

function backoff(context: PayoutContext, at: number): { retryAt: number; attempt: number } {
  const delay = Math.min(
    context.timing.maxDelayMs,
    context.timing.baseDelayMs * 2 ** Math.min(context.attempt, 20),
  );
  return { retryAt: at + delay, attempt: context.attempt + 1 };
}

function failure(
  code: string,
  error: EffectError | undefined,
  at: number,
  resumeFrom: PayoutFailure["resumeFrom"],
  paymentOpen: boolean,
): PayoutFailure {
  return {
    code,
    message: failureMessage(code) ?? error?.message ?? code,
    at,
    resumeFrom,
    paymentOpen,
    error,
  };
}

/**
 * One A2U payout as an explicit state machine (DESIGN.md, "The lifecycle of one payout").
 *
 * Main states: `created` (intent stored) → `stored` (Pi payment stored and checked) →
 * `submitted` (signed envelope stored) → `txStored` (in a ledger) → `completed`; or
 * `cancelled`; or `failed`, where it waits for a person's `RETRY` or `CANCEL`.
 *
 * It does no I/O and reads no clock: every effect is an invoked actor named in
 * `setup()`, every event it receives carries the runtime's time (`at`), and every
 * deadline lives in context (`retryAt`), so a snapshot restored after a crash resumes
 * exactly where it stopped.
 */
/**
 * An orphan (adopted with no record of ours) may have an envelope in flight from the process
 * that lost it: no new one is built before the chain's time has passed its possible bound.
 */
function orphanNotBefore(context: PayoutContext): number | null {
  if (context.orphanSince === undefined || context.orphanSince === null) return null;
  return Math.ceil((context.orphanSince + (context.timing.envelopeLifetimeMs ?? 120_000)) / 1000);
}

/**
 * What a known fate of the envelope leads to, wherever it is looked at: landed, completes;
 * dead too often, asks a person; dead, a new envelope after a backoff. A pending fate is
 * left to each caller (resend, or keep waiting).
 */
const whenFateKnown = [
  { guard: "landed", target: "#payout.txStored", actions: "storeLanded" },
  {
    guard: "deadTooOften",
    target: "#payout.failed.releasing",
    actions: ["buryTransaction", "failNotLanding"],
  },
  {
    guard: "dead",
    target: "#payout.stored.backoff",
    actions: ["buryTransaction", "scheduleRetry"],
  },
] as const;

export const payoutMachine = setup({
  types: {
    context: {} as PayoutContext,
    input: {} as PayoutInput,
    events: {} as PayoutCommand,
  },
  actors: {
    acquireSlot: fromPromise<Stamped<object>, SlotInput>(notProvided("acquireSlot")),
    createPiPayment: fromPromise<Stamped<CreateOutput>, CreateInput>(
      notProvided("createPiPayment"),
    ),
    buildTransaction: fromPromise<Stamped<BuildOutput>, BuildInput>(
      notProvided("buildTransaction"),
    ),
    submitTransaction: fromPromise<Stamped<SubmitOutput>, SubmitInput>(
      notProvided("submitTransaction"),
    ),
    checkFate: fromPromise<Stamped<FateOutput>, FateInput>(notProvided("checkFate")),
    completePiPayment: fromPromise<Stamped<PaymentOutput>, CompleteInput>(
      notProvided("completePiPayment"),
    ),
    cancelPiPayment: fromPromise<Stamped<PaymentOutput>, CancelInput>(
      notProvided("cancelPiPayment"),
    ),
    wait: fromPromise<Stamped<object>, WaitInput>(notProvided("wait")),
  },
  guards: {
    transient: ({ event }) => isTransient(errorOf(event)),
    /** A create that may have made a payment (no answer, or one that does not parse): look before concluding. */
    createMayHaveHappened: ({ event }) =>
      isTransient(errorOf(event)) || errorOf(event).details?.outcomeUnknown === true,
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
    /** Refused, and in a ledger: its sequence is used, it can never land. */
    refusedInLedger: ({ event }) => {
      const output = outputOf<SubmitOutput>(event);
      return output.status === "failed" && output.inLedger;
    },
    retryRequested: ({ context }) => context.retryRequested === true,
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
    failedInSubmitted: ({ context }) =>
      context.failure?.resumeFrom === "submitted" && context.transaction !== null,
    resumesFromCreated: ({ context }) => context.failure?.resumeFrom === "created",
    resumesFromStored: ({ context }) => context.failure?.resumeFrom === "stored",
    resumesFromSubmitted: ({ context }) =>
      context.failure?.resumeFrom === "submitted" && context.transaction !== null,
  },
  actions: {
    scheduleRetry: assign(({ context, event }) => {
      const at = "error" in event ? errorOf(event).at : outputOf<object>(event).at;
      return {
        ...backoff(context, at),
        lastError: "error" in event ? errorOf(event) : context.lastError,
      };
    }),
    stepDone: assign({ attempt: 0, retryAt: null }),
    noteError: assign({ lastError: ({ event }) => errorOf(event) }),
    requestCancel: assign({ cancelRequested: true }),
    countCreateAttempt: assign(({ context, event }) => ({
      createAttempts: context.createAttempts + 1,
      // Entered without a pending cancel, the effect may send a create request now.
      createRequestedAt: context.cancelRequested ? context.createRequestedAt : eventTime(event),
    })),
    storePayment: assign(({ event }) => {
      // An adopted payment was made by an earlier run: look on chain and at Pi before signing.
      const { payment, adopted } = outputOf<CreateOutput>(event);
      return {
        payment,
        paymentId: payment?.identifier ?? null,
        attempt: 0,
        retryAt: null,
        recheckPayment: adopted,
      };
    }),
    storeCheckedPayment: assign(({ event }) => ({
      payment: outputOf<PaymentOutput>(event).payment,
    })),
    storeTransaction: assign(({ event }) => {
      const output = outputOf<BuildOutput>(event);
      return {
        transaction: output.status === "built" ? output.transaction : null,
        payment: output.payment,
        attempt: 0,
        retryAt: null,
        recheckPayment: false,
      };
    }),
    storeLedger: assign(({ event }) => {
      const output = outputOf<SubmitOutput>(event);
      return {
        ledger: output.status === "applied" ? output.ledger : null,
        attempt: 0,
        retryAt: null,
      };
    }),
    storeLanded: assign(({ context, event }) => {
      const output = outputOf<FateOutput>(event);
      if (output.status !== "landed") return {};
      const landed = output.transaction;
      const ours = context.transaction;
      // Another envelope of this payment used the sequence and landed (its history says so):
      // that one is the payment's transaction, and ours can never land.
      const superseded = ours !== null && ours.txid !== landed.txid;
      return {
        ledger: landed.ledger,
        transaction: superseded
          ? {
              envelope: "",
              txid: landed.txid,
              source: landed.source,
              sequence: landed.sequence,
              maxTime: 0,
            }
          : ours,
        deadTransactions: superseded
          ? [...context.deadTransactions, { txid: ours.txid, reason: "sequence_used" }]
          : context.deadTransactions,
        attempt: 0,
        retryAt: null,
      };
    }),
    adoptFoundTransaction: assign(({ event }) => {
      const output = outputOf<BuildOutput>(event);
      const found = output.transaction;
      return {
        payment: output.payment,
        transaction: {
          envelope: "",
          txid: found.txid,
          source: found.source,
          sequence: found.sequence,
          maxTime: 0,
        },
        ledger: output.status === "landed" ? output.transaction.ledger : null,
        attempt: 0,
        retryAt: null,
        recheckPayment: false,
      };
    }),
    buryTransaction: assign(({ context, event }) => {
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
    }),
    countNotVerified: assign({
      notVerified: ({ context, event }) =>
        context.notVerified + (errorOf(event).code === "PI_NOT_VERIFIED" ? 1 : 0),
    }),
    failBeforePayment: assign(({ event }) => {
      const error = errorOf(event);
      const code = error.code === "PI_ONGOING_PAYMENT_FOUND" ? FOREIGN_ONGOING_PAYMENT : error.code;
      return { failure: failure(code, error, error.at, "created", false), lastError: error };
    }),
    failMismatch: assign(({ event }) => ({
      failure: failure("PAYMENT_MISMATCH", undefined, outputOf<object>(event).at, "created", false),
    })),
    failMismatchOpen: assign(({ event }) => ({
      failure: failure("PAYMENT_MISMATCH", errorOf(event), errorOf(event).at, "created", true),
    })),
    failStored: assign(({ event }) => {
      const error = errorOf(event);
      return { failure: failure(error.code, error, error.at, "stored", true), lastError: error };
    }),
    failCancelRefused: assign(({ context, event }) => {
      const error = errorOf(event);
      const resumeFrom = context.failure?.resumeFrom === "submitted" ? "submitted" : "stored";
      return {
        failure: failure("CANCEL_REFUSED", error, error.at, resumeFrom, true),
        lastError: error,
        cancelRequested: false,
      };
    }),
    failChain: assign(({ event }) => {
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
      return { failure: failure(code, error, output.at, "submitted", true), lastError: error };
    }),
    failTxStored: assign(({ event }) => {
      const error = errorOf(event);
      const code =
        error.code === "PI_CANCELLED_PAYMENT"
          ? "PAID_BUT_PAYMENT_CANCELLED"
          : error.code === "PI_NOT_VERIFIED"
            ? "NOT_VERIFIED"
            : ["PI_TXID_MISMATCH", "PI_ALREADY_COMPLETED"].includes(error.code)
              ? "TXID_MISMATCH"
              : error.code;
      // Cancelled on Pi, or completed there with another transaction: Pi holds nothing open
      // for it, so it must not keep the slot (a person reconciles the payment meanwhile).
      const paymentOpen =
        error.code !== "PI_CANCELLED_PAYMENT" && error.code !== "PI_ALREADY_COMPLETED";
      return {
        failure: failure(code, error, error.at, "txStored", paymentOpen),
        lastError: error,
      };
    }),
    /** Its envelope is gone (provably dead): a retry signs anew from `stored`. */
    resumeFromStored: assign(({ context }) => ({
      failure: context.failure && { ...context.failure, resumeFrom: "stored" as const },
    })),
    failNotLanding: assign(({ event }) => ({
      failure: failure(
        "TRANSACTIONS_NOT_LANDING",
        undefined,
        outputOf<object>(event).at,
        "stored",
        true,
      ),
    })),
    clearFailure: assign({
      deathsInARow: 0,
      failure: null,
      attempt: 0,
      retryAt: null,
      recheckPayment: true,
      notVerified: 0,
      retryRequested: false,
    }),
    requestRetry: assign({ retryRequested: true }),
    /** The failed payout's Pi payment is cancelled: the slot frees, and a retry starts afresh. */
    markPaymentReleased: assign(({ context, event }) => ({
      payment: outputOf<PaymentOutput>(event).payment,
      // An envelope still on record here failed in its ledger: it can never land.
      deadTransactions: context.transaction
        ? [
            ...context.deadTransactions,
            { txid: context.transaction.txid, reason: "failed_in_ledger" },
          ]
        : context.deadTransactions,
      failure: context.failure && {
        ...context.failure,
        resumeFrom: "created" as const,
        paymentOpen: false,
      },
      transaction: null,
      attempt: 0,
      retryAt: null,
    })),
    /** Pi refused to cancel the failed payout's payment: it stays open, and so does the slot. */
    noteReleaseRefused: assign(({ event }) => ({ lastError: errorOf(event) })),
  },
}).createMachine({
  id: "payout",
  context: ({ input }) => ({
    key: input.key,
    intent: input.intent,
    walletAddress: input.walletAddress,
    network: input.network,
    slotScope: input.slotScope,
    timing: input.timing,
    paymentId: null,
    payment: null,
    transaction: null,
    deadTransactions: [],
    deathsInARow: 0,
    ledger: null,
    attempt: 0,
    createAttempts: input.adopt ? 1 : 0,
    createRequestedAt: null,
    retryAt: null,
    notVerified: 0,
    lastError: null,
    failure: null,
    cancelRequested: false,
    recheckPayment: false,
    orphanSince: input.adopt ? (input.at ?? null) : null,
  }),
  initial: "created",
  states: {
    created: {
      initial: "queued",
      states: {
        /** Waits for the one-incomplete-payment slot of its scope (app or user). */
        queued: {
          invoke: {
            id: "acquireSlot",
            src: "acquireSlot",
            input: ({ context }) => ({ key: context.key, scope: context.slotScope }),
            onDone: { target: "creating", actions: "stepDone" },
            onError: { target: "backoff", actions: "scheduleRetry" },
          },
          on: { CANCEL: "#payout.cancelled" },
        },
        /** Creates the Pi payment, after looking for one of ours if an earlier attempt may have. */
        creating: {
          entry: "countCreateAttempt",
          invoke: {
            id: "createPiPayment",
            src: "createPiPayment",
            input: ({ context }) => ({
              key: context.key,
              intent: context.intent,
              lookFirst: context.createAttempts > 1,
              onlyFind: context.cancelRequested,
            }),
            onDone: [
              { guard: "createMayStillLand", target: "awaitingCreate" },
              { guard: "foundNothing", target: "#payout.cancelled" },
              { guard: "matchesIntent", target: "#payout.stored", actions: "storePayment" },
              { target: "rejecting", actions: "storePayment" },
            ],
            onError: [
              { guard: "createMayHaveHappened", target: "backoff", actions: "scheduleRetry" },
              { target: "#payout.failed", actions: "failBeforePayment" },
            ],
          },
          on: { CANCEL: { actions: "requestCancel" } },
        },
        backoff: {
          invoke: {
            id: "waitToCreate",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: [{ guard: "neverTriedCreate", target: "queued" }, { target: "creating" }],
          },
          on: {
            // A create whose outcome is unknown may have made a payment: look before ending.
            CANCEL: [
              { guard: "neverTriedCreate", target: "#payout.cancelled" },
              { target: "creating", actions: "requestCancel" },
            ],
          },
        },
        /**
         * Cancelling after a create whose outcome is unknown: nothing was found yet, but the
         * request may still land (a crash or a timeout left it in flight). Look again once
         * the grace period since it went out has passed.
         */
        awaitingCreate: {
          invoke: {
            id: "waitForCreate",
            src: "wait",
            input: ({ context }) => ({
              until: (context.createRequestedAt ?? 0) + context.timing.createGraceMs,
            }),
            onDone: "creating",
          },
        },
        /** Pi returned a payment that differs from the intent (P5): cancel it, never sign. */
        rejecting: {
          invoke: {
            id: "cancelMismatched",
            src: "cancelPiPayment",
            input: ({ context }) => ({ key: context.key, paymentId: context.paymentId ?? "" }),
            onDone: { target: "#payout.failed", actions: ["storeCheckedPayment", "failMismatch"] },
            onError: [
              { guard: "transient", target: "rejectBackoff", actions: "scheduleRetry" },
              { target: "#payout.failed", actions: "failMismatchOpen" },
            ],
          },
        },
        rejectBackoff: {
          invoke: {
            id: "waitToReject",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: "rejecting",
          },
        },
      },
    },
    stored: {
      initial: "signing",
      states: {
        /** Builds and signs the transaction; nothing is sent, so a cancel may interrupt it. */
        signing: {
          always: { guard: "cancelRequested", target: "cancelling" },
          invoke: {
            id: "buildTransaction",
            src: "buildTransaction",
            input: ({ context }) => ({
              key: context.key,
              payment: context.payment!,
              intent: context.intent,
              recheck: context.recheckPayment,
              requestedAt: context.createRequestedAt,
              notBefore: orphanNotBefore(context),
            }),
            onDone: [
              {
                guard: "alreadyLanded",
                target: "#payout.txStored",
                actions: "adoptFoundTransaction",
              },
              { target: "#payout.submitted", actions: "storeTransaction" },
            ],
            onError: [
              { guard: "paymentCancelledByPi", target: "#payout.cancelled", actions: "noteError" },
              { guard: "transient", target: "backoff", actions: "scheduleRetry" },
              // A Pi payment exists, and no envelope of it can land: release it.
              { target: "#payout.failed.releasing", actions: "failStored" },
            ],
          },
          on: { CANCEL: "cancelling" },
        },
        backoff: {
          entry: assign({ recheckPayment: true }),
          always: { guard: "cancelRequested", target: "cancelling" },
          invoke: {
            id: "waitToSign",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: "signing",
          },
          on: { CANCEL: "cancelling" },
        },
        /** Cancels the Pi payment: safe here, no envelope of it can land. */
        cancelling: {
          invoke: {
            id: "cancelPiPayment",
            src: "cancelPiPayment",
            input: ({ context }) => ({ key: context.key, paymentId: context.paymentId ?? "" }),
            onDone: { target: "#payout.cancelled", actions: "storeCheckedPayment" },
            onError: [
              { guard: "transient", target: "cancelBackoff", actions: "scheduleRetry" },
              { target: "#payout.failed", actions: "failCancelRefused" },
            ],
          },
        },
        cancelBackoff: {
          invoke: {
            id: "waitToCancel",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: "cancelling",
          },
        },
      },
    },
    submitted: {
      initial: "sending",
      // The envelope may land: a cancel waits until it provably cannot (P3), and loses if it lands.
      on: { CANCEL: { actions: "requestCancel" } },
      states: {
        /** Sends the stored envelope, never a new one. */
        sending: {
          invoke: {
            id: "submitTransaction",
            src: "submitTransaction",
            input: ({ context }) => ({ key: context.key, transaction: context.transaction! }),
            onDone: [
              { guard: "applied", target: "#payout.txStored", actions: "storeLedger" },
              { guard: "refusedMaybeLanded", target: "confirming" },
              {
                guard: "refusedInLedger",
                target: "#payout.failed.releasing",
                actions: "failChain",
              },
              // Refused, yet an earlier send of the same envelope may be in flight somewhere.
              { guard: "refused", target: "#payout.failed.watching", actions: "failChain" },
              { target: "waiting", actions: "scheduleRetry" },
            ],
            onError: { target: "waiting", actions: "scheduleRetry" },
          },
        },
        waiting: {
          invoke: {
            id: "waitToResend",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: "checking",
          },
        },
        /** After an unknown outcome: landed, still able to land (resend it), or provably dead. */
        checking: {
          invoke: {
            id: "checkFate",
            src: "checkFate",
            input: ({ context }) => ({ key: context.key, transaction: context.transaction! }),
            onDone: [
              ...whenFateKnown,
              { guard: "cancelRequested", target: "waitingForBound", actions: "scheduleRetry" },
              { target: "sending" },
            ],
            onError: { target: "waiting", actions: "scheduleRetry" },
          },
        },
        /**
         * The envelope was refused in a way that may hide a landing (tx_bad_seq, tx_too_late),
         * or a cancel waits for it: look again after each wait, never resend, until it has
         * landed or provably cannot.
         */
        confirming: {
          invoke: {
            id: "confirmFate",
            src: "checkFate",
            input: ({ context }) => ({ key: context.key, transaction: context.transaction! }),
            onDone: [...whenFateKnown, { target: "waitingForBound", actions: "scheduleRetry" }],
            onError: { target: "waitingForBound", actions: "scheduleRetry" },
          },
        },
        waitingForBound: {
          invoke: {
            id: "waitForBound",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: "confirming",
          },
        },
      },
    },
    txStored: {
      initial: "completing",
      states: {
        /** Completes the payment on Pi; `already_completed` with our txid counts as done. */
        completing: {
          invoke: {
            id: "completePiPayment",
            src: "completePiPayment",
            input: ({ context }) => ({
              key: context.key,
              paymentId: context.paymentId ?? "",
              txid: context.transaction?.txid ?? "",
            }),
            onDone: { target: "#payout.completed", actions: ["storeCheckedPayment", "stepDone"] },
            onError: [
              { guard: "notVerifiedTooOften", target: "#payout.failed", actions: "failTxStored" },
              {
                guard: "transient",
                target: "backoff",
                actions: ["scheduleRetry", "countNotVerified"],
              },
              { target: "#payout.failed", actions: "failTxStored" },
            ],
          },
        },
        backoff: {
          invoke: {
            id: "waitToComplete",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: "completing",
          },
        },
      },
    },
    completed: { type: "final" },
    cancelled: { type: "final" },
    /** Stopped for a person: `failure` says why; RETRY resumes, CANCEL ends it if still safe. */
    failed: {
      initial: "resting",
      on: {
        RETRY: [
          { guard: "resumesFromCreated", target: "created", actions: "clearFailure" },
          { guard: "resumesFromStored", target: "stored", actions: "clearFailure" },
          { guard: "resumesFromSubmitted", target: "submitted.checking", actions: "clearFailure" },
          { target: "txStored", actions: "clearFailure" },
        ],
        CANCEL: [
          { guard: "failedBeforeTransaction", target: "stored.cancelling" },
          { guard: "noPaymentOpen", target: "cancelled" },
          {
            guard: "failedInSubmitted",
            target: "submitted.confirming",
            actions: ["requestCancel", "clearFailure"],
          },
        ],
      },
      states: {
        /** At rest: nothing to do until a person retries or cancels. */
        resting: {},
        /**
         * The envelope was refused, but an earlier send of it may still land: it keeps Pi's
         * slot until it lands (the user is paid: complete) or provably cannot (release).
         */
        watching: {
          invoke: {
            id: "watchFate",
            src: "checkFate",
            input: ({ context }) => ({ key: context.key, transaction: context.transaction! }),
            onDone: [
              {
                guard: "landed",
                target: "#payout.txStored",
                actions: ["storeLanded", "clearFailure"],
              },
              {
                guard: "dead",
                target: "releasing",
                actions: ["buryTransaction", "resumeFromStored"],
              },
              { target: "watchBackoff", actions: "scheduleRetry" },
            ],
            onError: { target: "watchBackoff", actions: "scheduleRetry" },
          },
        },
        watchBackoff: {
          invoke: {
            id: "waitToWatch",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: "watching",
          },
        },
        /**
         * No transaction of it can land, yet its Pi payment is open, holding Pi's one slot:
         * cancel it, so that the next payouts go on and a retry creates a new one.
         */
        releasing: {
          invoke: {
            id: "releasePayment",
            src: "cancelPiPayment",
            input: ({ context }) => ({ key: context.key, paymentId: context.paymentId ?? "" }),
            onDone: [
              {
                guard: "cancelRequested",
                target: "#payout.cancelled",
                actions: "storeCheckedPayment",
              },
              {
                guard: "retryRequested",
                target: "#payout.created",
                actions: ["markPaymentReleased", "clearFailure"],
              },
              { target: "resting", actions: "markPaymentReleased" },
            ],
            onError: [
              { guard: "transient", target: "releaseBackoff", actions: "scheduleRetry" },
              { target: "resting", actions: "noteReleaseRefused" },
            ],
          },
          // The cancel in flight decides; commands are taken up once it is done.
          on: {
            CANCEL: { actions: "requestCancel" },
            RETRY: { actions: "requestRetry" },
          },
        },
        releaseBackoff: {
          invoke: {
            id: "waitToRelease",
            src: "wait",
            input: ({ context }) => ({ until: context.retryAt ?? 0 }),
            onDone: "releasing",
          },
          on: {
            CANCEL: { target: "releasing", actions: "requestCancel" },
            RETRY: { target: "releasing", actions: "requestRetry" },
          },
        },
      },
    },
  },
});

/** The payout machine's type. */
export type PayoutMachine = typeof payoutMachine;
