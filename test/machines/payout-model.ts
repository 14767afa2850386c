import { Keypair } from "@stellar/stellar-sdk";
import type { PaymentDTO } from "../../src/domain/index.js";
import { parseAmount } from "../../src/domain/index.js";
import {
  type PayoutMachineEvent,
  type PayoutSnapshot,
  pendingEffect,
  stepPayout,
} from "../../src/machines/index.js";
import type { PayoutInput } from "../../src/machines/types.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { a2uPayment } from "../helpers/payment.js";

/**
 * The model behind the model-based tests: for each effect, the outcomes it can have, each
 * with (1) the abstract event the machine receives, for exploring the graph, and (2) how to
 * make the real effect produce that outcome against the sandbox, for checking each path.
 */

export const modelKey = "model-payout";
const recipient = Keypair.random().publicKey();

/** The machine's input in the model; `walletAddress` is the sandbox's, filled in per run. */
export function modelInput(walletAddress: string, uid = "user-1"): PayoutInput {
  return {
    key: modelKey,
    intent: { uid, amount: parseAmount("1.5"), memo: "model", metadata: {} },
    walletAddress,
    network: "Pi Testnet",
    slotScope: `app:${walletAddress}`,
    // maxNotVerified 2 keeps the path to the NOT_VERIFIED failure short.
    // The harness runs on a virtual clock, so the grace can be realistic.
    timing: {
      baseDelayMs: 1,
      maxDelayMs: 2,
      maxNotVerified: 2,
      createGraceMs: 60_000,
      maxDeadEnvelopes: 2,
    },
  };
}

/** A payment as Pi would return it for the model's intent. */
function payment(snapshot: PayoutSnapshot, change: Partial<PaymentDTO> = {}): PaymentDTO {
  const { context } = snapshot;
  return a2uPayment({
    identifier: "M".repeat(28),
    user_uid: context.intent.uid,
    amount: Number(context.intent.amount),
    memo: context.intent.memo,
    from_address: context.walletAddress,
    to_address: context.payment?.to_address ?? recipient,
    created_at: "2026-11-24T00:00:00Z",
    network: context.network,
    ...change,
  });
}

const tx = { envelope: "AAAA", txid: "a".repeat(64), source: "G", sequence: "2", maxTime: 100 };

/** What a path step needs to arrange in the sandbox before the real effect runs. */
export interface Arrangement {
  sandbox: Sandbox;
  snapshot: PayoutSnapshot;
  /** The sandbox user paid by the model payout. */
  uid: string;
  /** Makes the store's next slot acquisition fail (a transient storage failure). */
  failNextSlot: () => void;
  /** Makes the next submission throw (an adapter bug, not a Horizon answer). */
  failNextSubmit: () => void;
  /** Moves the runtime's (virtual) clock forward to at least this time, in ms. */
  advanceClockTo: (ms: number) => void;
  /** The input of the effect about to run. */
  input: unknown;
}

/** One possible outcome of an effect. */
export interface Outcome {
  name: string;
  /** Whether the outcome can happen from this snapshot. */
  feasible: (snapshot: PayoutSnapshot) => boolean;
  /** The event the machine receives. */
  output?: (snapshot: PayoutSnapshot) => unknown;
  error?: { code: string; retryable: boolean; details?: Record<string, unknown> };
  /** Prepares the sandbox so that the real effect has this outcome. */
  arrange: (arrangement: Arrangement) => Promise<void> | void;
  /** The command just before this outcome arrives while the effect runs (its input was computed without it). */
  commandDuringEffect?: boolean;
}

const always = () => true;
const nothing = () => {};
const ledgerPastBound = async ({ sandbox, snapshot }: Arrangement) => {
  const maxTime = snapshot.context.transaction?.maxTime ?? 0;
  while (sandbox.chain.latest.closedAt <= maxTime) await sandbox.closeLedger();
};
const landEnvelope = async ({ sandbox, snapshot }: Arrangement) => {
  const envelope = snapshot.context.transaction?.envelope ?? "";
  const outcome = sandbox.chain.submit(envelope);
  if (outcome.kind === "pending") {
    sandbox.chain.closeLedger();
    await outcome.result;
  }
};
const cancelOnPi = async ({ sandbox, snapshot }: Arrangement) => {
  sandbox.platform.cancel(snapshot.context.paymentId!);
};
/** Cancels any incomplete payment that is not the model payout's (a foreign blocker from an earlier step). */
const clearForeign = ({ sandbox }: Arrangement) => {
  for (const p of sandbox.platform.incompleteServerPayments()) {
    if (p.metadata?.pi_payments_key !== modelKey) sandbox.platform.cancel(p.identifier);
  }
};

export const outcomes: Record<string, Outcome[]> = {
  acquireSlot: [
    { name: "slot", feasible: always, output: () => ({}), arrange: nothing },
    {
      name: "storeDown",
      feasible: always,
      error: { code: "STORAGE_UNAVAILABLE", retryable: true },
      arrange: ({ failNextSlot }) => failNextSlot(),
    },
  ],
  createPiPayment: [
    {
      name: "created",
      feasible: (s) => !s.context.cancelRequested,
      output: (s) => ({ payment: payment(s), adopted: false }),
      arrange: clearForeign,
    },
    {
      name: "createdMismatched",
      feasible: (s) => !s.context.cancelRequested,
      output: (s) => ({ payment: payment(s, { amount: 999 }), adopted: false }),
      arrange: (a) => {
        clearForeign(a);
        a.sandbox.setFaults([
          { route: "POST /v2/payments", kind: "tamper", payment: { amount: 999 }, times: 1 },
        ]);
      },
    },
    {
      // CANCEL arrived while the create request was already out: the payment exists.
      name: "createdDespiteCancel",
      feasible: (s) => s.context.cancelRequested && s.context.paymentId === null,
      output: (s) => ({ payment: payment(s), adopted: false }),
      arrange: clearForeign,
      commandDuringEffect: true,
    },
    {
      // Nothing yet, but a create request sent earlier may still land: wait and look again.
      name: "foundNothing",
      feasible: (s) => s.context.cancelRequested,
      output: () => ({ payment: null, adopted: false }),
      arrange: nothing,
    },
    {
      // Nothing, and long enough after the last create request that none can land any more.
      name: "foundNothingLate",
      feasible: (s) => s.context.cancelRequested && s.context.createRequestedAt !== null,
      output: () => ({ payment: null, adopted: false, at: 10 ** 13 }),
      arrange: ({ snapshot, advanceClockTo }) =>
        advanceClockTo(
          (snapshot.context.createRequestedAt ?? 0) + snapshot.context.timing.createGraceMs + 1,
        ),
    },
    {
      name: "createUnavailable",
      feasible: (s) => !s.context.cancelRequested,
      error: { code: "PI_UNKNOWN_ERROR", retryable: true },
      arrange: (a) => {
        clearForeign(a);
        a.sandbox.setFaults([{ route: "POST /v2/payments", kind: "error", status: 503, times: 1 }]);
      },
    },
    {
      name: "foreignBlocker",
      feasible: (s) => !s.context.cancelRequested,
      error: { code: "PI_ONGOING_PAYMENT_FOUND", retryable: false },
      arrange: ({ sandbox, uid }) => {
        sandbox.platform.createA2U(
          { payment: { amount: 1, memo: "foreign", metadata: {}, uid } },
          sandbox.chain.now(),
        );
      },
    },
    {
      name: "userNotFound",
      feasible: (s) => !s.context.cancelRequested,
      error: { code: "PI_USER_NOT_FOUND", retryable: false },
      arrange: (a) => {
        clearForeign(a);
        a.sandbox.setFaults([
          {
            route: "POST /v2/payments",
            kind: "error",
            status: 400,
            piError: "user_not_found",
            times: 1,
          },
        ]);
      },
    },
  ],
  buildTransaction: [
    {
      name: "built",
      feasible: always,
      output: (s) => ({ status: "built", transaction: tx, payment: payment(s) }),
      arrange: nothing,
    },
    {
      name: "horizonUnavailable",
      feasible: always,
      error: { code: "HORIZON_SERVER_ERROR", retryable: true },
      arrange: ({ sandbox }) =>
        sandbox.setFaults([{ route: "GET /accounts/*", kind: "error", status: 503, times: 1 }]),
    },
    {
      name: "cancelledByPi",
      feasible: (s) => s.context.recheckPayment,
      error: {
        code: "PAYMENT_MISMATCH",
        retryable: false,
        details: { mismatches: [{ field: "status.cancelled" }] },
      },
      arrange: cancelOnPi,
    },
    {
      name: "foundOnChain",
      feasible: (s) => s.context.recheckPayment,
      output: (s) => ({
        status: "landed",
        transaction: { txid: "b".repeat(64), ledger: 3, source: "G", sequence: "2" },
        payment: payment(s),
      }),
      arrange: async ({ sandbox, snapshot }) => {
        // A transaction of this payment landed although the payout has no record of it.
        const { createPiChain } = await import("../../src/adapters/index.js");
        const chain = createPiChain({
          network: sandbox.network,
          walletSeed: sandbox.walletSeed,
          horizonUrl: sandbox.horizonUrl,
        });
        const signed = await chain.buildPayment({
          paymentId: snapshot.context.paymentId!,
          to: snapshot.context.payment!.to_address,
          amount: snapshot.context.intent.amount,
        });
        const outcome = sandbox.chain.submit(signed.envelope);
        if (outcome.kind === "pending") {
          sandbox.chain.closeLedger();
          await outcome.result;
        }
      },
    },
    {
      name: "walletMissing",
      feasible: always,
      error: { code: "ACCOUNT_NOT_FOUND", retryable: false },
      arrange: ({ sandbox }) =>
        sandbox.setFaults([{ route: "GET /accounts/*", kind: "error", status: 404, times: 1 }]),
    },
  ],
  submitTransaction: [
    {
      name: "applied",
      feasible: always,
      output: () => ({ status: "applied", txid: tx.txid, ledger: 3 }),
      arrange: nothing,
    },
    {
      name: "unknown",
      feasible: always,
      output: () => ({ status: "unknown", txid: tx.txid, reason: "HTTP 502" }),
      arrange: ({ sandbox }) =>
        sandbox.setFaults([{ route: "POST /transactions", kind: "error", status: 502, times: 1 }]),
    },
    {
      name: "submitThrew",
      feasible: always,
      error: { code: "UNEXPECTED_ERROR", retryable: false },
      arrange: ({ failNextSubmit }) => failNextSubmit(),
    },
    {
      name: "badSeq",
      feasible: always,
      output: () => ({
        status: "failed",
        txid: tx.txid,
        resultCodes: { transaction: "tx_bad_seq" },
        inLedger: false,
      }),
      arrange: ({ sandbox }) =>
        sandbox.setFaults([
          {
            route: "POST /transactions",
            kind: "error",
            status: 400,
            resultCodes: { transaction: "tx_bad_seq" },
            times: 1,
          },
        ]),
    },
    {
      // In a ledger, failed: its sequence is used, it can never land.
      name: "underfunded",
      feasible: always,
      output: () => ({
        status: "failed",
        txid: tx.txid,
        resultCodes: { transaction: "tx_failed", operations: ["op_underfunded"] },
        inLedger: true,
      }),
      // For real: the wallet is too poor when the ledger applies it, then is topped up again.
      arrange: ({ sandbox }) => {
        const before = sandbox.balance(sandbox.walletAddress)!;
        const applied = sandbox.chain.transactions().length;
        sandbox.setBalance(sandbox.walletAddress, "1.01");
        const refill = setInterval(() => {
          if (sandbox.chain.transactions().length > applied) {
            clearInterval(refill);
            sandbox.setBalance(sandbox.walletAddress, before);
          }
        }, 1);
      },
    },
    {
      // Refused before any ledger: an earlier send of the same envelope may still land.
      name: "refusedForFee",
      feasible: always,
      output: () => ({
        status: "failed",
        txid: tx.txid,
        resultCodes: { transaction: "tx_insufficient_balance" },
        inLedger: false,
      }),
      arrange: ({ sandbox }) =>
        sandbox.setFaults([
          {
            route: "POST /transactions",
            kind: "error",
            status: 400,
            resultCodes: { transaction: "tx_insufficient_balance" },
            times: 1,
          },
        ]),
    },
  ],
  checkFate: fateOutcomes(),
  completePiPayment: [
    {
      name: "completed",
      feasible: always,
      output: (s) => ({ payment: payment(s) }),
      arrange: nothing,
    },
    {
      name: "completeUnavailable",
      feasible: always,
      error: { code: "PI_UNKNOWN_ERROR", retryable: true },
      arrange: ({ sandbox }) =>
        sandbox.setFaults([
          { route: "POST /v2/payments/*/complete", kind: "error", status: 503, times: 1 },
        ]),
    },
    {
      name: "notVerified",
      feasible: always,
      error: { code: "PI_NOT_VERIFIED", retryable: true },
      arrange: ({ sandbox }) =>
        sandbox.setFaults([
          {
            route: "POST /v2/payments/*/complete",
            kind: "error",
            status: 400,
            piError: "not_verified",
            times: 1,
          },
        ]),
    },
    {
      name: "paidButCancelled",
      feasible: always,
      error: { code: "PI_CANCELLED_PAYMENT", retryable: false },
      arrange: cancelOnPi,
    },
    {
      name: "verificationFailed",
      feasible: always,
      error: { code: "PI_VERIFICATION_FAILED", retryable: false },
      arrange: ({ sandbox }) =>
        sandbox.setFaults([
          {
            route: "POST /v2/payments/*/complete",
            kind: "error",
            status: 400,
            piError: "verification_failed",
            times: 1,
          },
        ]),
    },
  ],
  cancelPiPayment: [
    {
      name: "cancelled",
      feasible: always,
      output: (s) => ({ payment: payment(s) }),
      arrange: nothing,
    },
    {
      name: "cancelUnavailable",
      feasible: always,
      error: { code: "PI_UNKNOWN_ERROR", retryable: true },
      arrange: ({ sandbox }) =>
        sandbox.setFaults([
          { route: "POST /v2/payments/*/cancel", kind: "error", status: 503, times: 1 },
        ]),
    },
    {
      name: "cancelRefused",
      feasible: always,
      error: { code: "PI_PAYMENT_TX_PRESENT", retryable: false },
      arrange: ({ sandbox }) =>
        sandbox.setFaults([
          {
            route: "POST /v2/payments/*/cancel",
            kind: "error",
            status: 400,
            piError: "payment_tx_present",
            times: 1,
          },
        ]),
    },
  ],
  wait: [
    {
      name: "waited",
      feasible: always,
      output: () => ({}),
      arrange: ({ input, advanceClockTo }) => advanceClockTo((input as { until: number }).until),
    },
  ],
};

function fateOutcomes(): Outcome[] {
  return [
    {
      name: "landed",
      feasible: always,
      output: () => ({
        status: "landed",
        transaction: {
          txid: tx.txid,
          ledger: 3,
          successful: true,
          memo: undefined,
          source: "G",
          sequence: "2",
          payments: [],
        },
      }),
      arrange: landEnvelope,
    },
    {
      name: "dead",
      feasible: always,
      output: () => ({ status: "dead", reason: "expired" }),
      arrange: ledgerPastBound,
    },
    { name: "pending", feasible: always, output: () => ({ status: "pending" }), arrange: nothing },
    {
      name: "fateUnavailable",
      feasible: always,
      error: { code: "HORIZON_SERVER_ERROR", retryable: true },
      arrange: ({ sandbox }) =>
        sandbox.setFaults([{ route: "GET /ledgers", kind: "error", status: 503, times: 1 }]),
    },
  ];
}

/** An event of the model: the machine's event plus the outcome's name. */
export type ModelEvent = PayoutMachineEvent & { outcome: string };

/** Every event that changes the snapshot, as the model explores them. */
export function modelEvents(snapshot: PayoutSnapshot): ModelEvent[] {
  const events: ModelEvent[] = [
    { type: "CANCEL", at: 0, outcome: "CANCEL" },
    { type: "RETRY", at: 0, outcome: "RETRY" },
  ];
  const effect = pendingEffect(snapshot);
  for (const outcome of effect ? (outcomes[effect.src] ?? []) : []) {
    if (!outcome.feasible(snapshot)) continue;
    events.push(
      outcome.error
        ? {
            type: `xstate.error.actor.${effect!.id}`,
            error: { name: "Error", message: outcome.name, ...outcome.error, at: 0 },
            outcome: outcome.name,
          }
        : {
            type: `xstate.done.actor.${effect!.id}`,
            output: { at: 0, ...(outcome.output!(snapshot) as object) },
            outcome: outcome.name,
          },
    );
  }
  return events.filter((event) => stepPayout(snapshot, event).snapshot !== snapshot);
}

/** The outcome an event stands for. */
export function outcomeOf(snapshot: PayoutSnapshot, event: ModelEvent): Outcome | undefined {
  const effect = pendingEffect(snapshot);
  return effect ? outcomes[effect.src]?.find((o) => o.name === event.outcome) : undefined;
}

/** What the model distinguishes in a snapshot (counters beyond their bounds are left out). */
export function modelState(snapshot: {
  value: unknown;
  context: PayoutSnapshot["context"];
}): string {
  const c = snapshot.context;
  return JSON.stringify({
    value: snapshot.value,
    cancel: c.cancelRequested,
    retry: c.retryRequested === true,
    failure: c.failure && {
      code: c.failure.code,
      from: c.failure.resumeFrom,
      open: c.failure.paymentOpen,
    },
    payment: c.paymentId !== null,
    tx: c.transaction !== null,
    lookFirst: c.createAttempts > 1,
    recheck: c.recheckPayment,
    notVerified: c.notVerified,
    deaths: c.deathsInARow,
  });
}
