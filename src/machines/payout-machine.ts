import { setup } from "xstate";
import { payoutEffectStubs } from "./payout-effects.js";
import { payoutGuards } from "./payout-guards.js";
import {
  assignEach,
  backoffState,
  envelopeInput,
  orphanNotBefore,
  paymentInput,
  whenFateKnown,
} from "./payout-machine-parts.js";
import { payoutUpdates } from "./payout-updates.js";
import type { PayoutCommand, PayoutContext, PayoutInput } from "./types.js";

/**
 * One A2U payout as an explicit state machine (DESIGN.md, "The lifecycle of one payout").
 *
 * Main states: `created` (intent stored) → `stored` (Pi payment stored and checked) →
 * `submitted` (signed envelope stored) → `txStored` (in a ledger) → `completed`; or
 * `cancelled`; or `failed`, where it rests for a person's `RETRY` or `CANCEL` (after
 * watching a refused envelope until it cannot land, and releasing its Pi payment).
 *
 * It does no I/O and reads no clock: every effect is an invoked actor declared in
 * `payoutEffects`, every event it receives carries the runtime's time (`at`), and every
 * deadline lives in context (`retryAt`), so a snapshot restored after a crash resumes
 * exactly where it stopped. Its guards are `payoutGuards`, its context changes
 * `payoutUpdates`.
 */
export const payoutMachine = setup({
  types: {
    context: {} as PayoutContext,
    input: {} as PayoutInput,
    events: {} as PayoutCommand,
  },
  actors: payoutEffectStubs,
  guards: payoutGuards,
  // Each action is a pure update of the context (payoutUpdates), assigned by name.
  actions: assignEach(payoutUpdates),
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
    ...(input.traceparent === undefined ? {} : { traceparent: input.traceparent }),
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
            onError: { target: "backoff", actions: "scheduleBackoff" },
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
              { guard: "createMayHaveHappened", target: "backoff", actions: "scheduleBackoff" },
              { target: "#payout.failed", actions: "failBeforePayment" },
            ],
          },
          on: { CANCEL: { actions: "requestCancel" } },
        },
        backoff: {
          ...backoffState("waitToCreate", [
            { guard: "neverTriedCreate", target: "queued" },
            { target: "creating" },
          ]),
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
            input: paymentInput,
            onDone: { target: "#payout.failed", actions: ["storeCheckedPayment", "failMismatch"] },
            onError: [
              { guard: "transient", target: "rejectBackoff", actions: "scheduleBackoff" },
              { target: "#payout.failed", actions: "failMismatchOpen" },
            ],
          },
        },
        rejectBackoff: backoffState("waitToReject", "rejecting"),
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
              { guard: "transient", target: "backoff", actions: "scheduleBackoff" },
              // A Pi payment exists, and no envelope of it can land: release it.
              { target: "#payout.failed.releasing", actions: "failStored" },
            ],
          },
          on: { CANCEL: "cancelling" },
        },
        backoff: {
          ...backoffState("waitToSign", "signing"),
          entry: "askRecheck",
          always: { guard: "cancelRequested", target: "cancelling" },
          on: { CANCEL: "cancelling" },
        },
        /** Cancels the Pi payment: safe here, no envelope of it can land. */
        cancelling: {
          invoke: {
            id: "cancelPiPayment",
            src: "cancelPiPayment",
            input: paymentInput,
            onDone: { target: "#payout.cancelled", actions: "storeCheckedPayment" },
            onError: [
              { guard: "transient", target: "cancelBackoff", actions: "scheduleBackoff" },
              { target: "#payout.failed", actions: "failCancelRefused" },
            ],
          },
        },
        cancelBackoff: backoffState("waitToCancel", "cancelling"),
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
            input: envelopeInput,
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
              { target: "waiting", actions: "scheduleBackoff" },
            ],
            onError: { target: "waiting", actions: "scheduleBackoff" },
          },
        },
        waiting: backoffState("waitToResend", "checking"),
        /** After an unknown outcome: landed, still able to land (resend it), or provably dead. */
        checking: {
          invoke: {
            id: "checkFate",
            src: "checkFate",
            input: envelopeInput,
            onDone: [
              ...whenFateKnown,
              { guard: "cancelRequested", target: "waitingForBound", actions: "scheduleBackoff" },
              { target: "sending" },
            ],
            onError: { target: "waiting", actions: "scheduleBackoff" },
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
            input: envelopeInput,
            onDone: [...whenFateKnown, { target: "waitingForBound", actions: "scheduleBackoff" }],
            onError: { target: "waitingForBound", actions: "scheduleBackoff" },
          },
        },
        waitingForBound: backoffState("waitForBound", "confirming"),
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
                actions: ["scheduleBackoff", "countNotVerified"],
              },
              { target: "#payout.failed", actions: "failTxStored" },
            ],
          },
        },
        backoff: backoffState("waitToComplete", "completing"),
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
            input: envelopeInput,
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
              { target: "watchBackoff", actions: "scheduleBackoff" },
            ],
            onError: { target: "watchBackoff", actions: "scheduleBackoff" },
          },
        },
        watchBackoff: backoffState("waitToWatch", "watching"),
        /**
         * No transaction of it can land, yet its Pi payment is open, holding Pi's one slot:
         * cancel it, so that the next payouts go on and a retry creates a new one.
         */
        releasing: {
          invoke: {
            id: "releasePayment",
            src: "cancelPiPayment",
            input: paymentInput,
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
              { guard: "transient", target: "releaseBackoff", actions: "scheduleBackoff" },
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
          ...backoffState("waitToRelease", "releasing"),
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
