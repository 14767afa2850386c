import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { createActor, fromPromise, waitFor } from "xstate";
import { parseAmount } from "../../src/domain/index.js";
import {
  describeState,
  payoutMachine,
  pendingEffect,
  startPayout,
  stepPayout,
} from "../../src/machines/index.js";
import type { PayoutInput } from "../../src/machines/types.js";
import { a2uPayment } from "../helpers/payment.js";

const wallet = Keypair.random().publicKey();
const recipient = Keypair.random().publicKey();
const input: PayoutInput = {
  key: "k",
  intent: { uid: "u1", amount: parseAmount("2"), memo: "m", metadata: {} },
  walletAddress: wallet,
  network: "Pi Testnet",
  slotScope: "app",
  timing: {
    baseDelayMs: 100,
    maxDelayMs: 1000,
    maxNotVerified: 3,
    createGraceMs: 1000,
    maxDeadEnvelopes: 3,
  },
};
const payment = a2uPayment({ from_address: wallet, to_address: recipient });
const transaction = {
  envelope: "AAAA",
  txid: "e".repeat(64),
  source: wallet,
  sequence: "5",
  maxTime: 1000,
};
const stamp = <T extends object>(value: T) => ({ ...value, at: Date.now() });

/** Effects that succeed at once, swapped in by name with `provide()`. */
const happy = {
  acquireSlot: fromPromise(async () => stamp({})),
  createPiPayment: fromPromise(async () => stamp({ payment, adopted: false })),
  buildTransaction: fromPromise(async () => stamp({ status: "built", transaction, payment })),
  submitTransaction: fromPromise(async () =>
    stamp({ status: "applied", txid: transaction.txid, ledger: 7 }),
  ),
  checkFate: fromPromise(async () => stamp({ status: "pending" })),
  completePiPayment: fromPromise(async () =>
    stamp({ payment: { ...payment, status: { ...payment.status, developer_completed: true } } }),
  ),
  cancelPiPayment: fromPromise(async () => stamp({ payment })),
  wait: fromPromise(async () => stamp({})),
};

describe("the payout machine under xstate's own runtime", () => {
  test("with effects provided by name, a payout goes created → stored → submitted → txStored → completed", async () => {
    const seen: string[] = [];
    const actor = createActor(payoutMachine.provide({ actors: happy as never }), { input });
    actor.subscribe((snapshot) => seen.push(describeState(snapshot).state));
    actor.start();
    const done = await waitFor(actor, (s) => s.status === "done");
    expect(describeState(done).state).toBe("completed");
    expect([...new Set(seen)]).toEqual(["created", "stored", "submitted", "txStored", "completed"]);
    expect(done.context).toMatchObject({
      paymentId: payment.identifier,
      ledger: 7,
      transaction: { txid: transaction.txid },
    });
  });

  test("persisted mid-flow through JSON, restored, it goes on to completion", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = {
      ...happy,
      submitTransaction: fromPromise(async () => {
        await held;
        return stamp({ status: "applied", txid: transaction.txid, ledger: 9 });
      }),
    };
    const first = createActor(payoutMachine.provide({ actors: slow as never }), { input }).start();
    await waitFor(first, (s) => describeState(s).detail === "submitted.sending");
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    first.stop();
    release();

    const second = createActor(payoutMachine.provide({ actors: happy as never }), {
      snapshot: persisted,
      input,
    }).start();
    const done = await waitFor(second, (s) => s.status === "done");
    expect(describeState(done).state).toBe("completed");
    expect(done.context.transaction?.txid).toBe(transaction.txid);
  });

  test("without effects provided, it says so instead of acting", async () => {
    const actor = createActor(payoutMachine, { input });
    // Its next effect (the wait) is missing too; the actor then stops with that error.
    actor.subscribe({ error: () => {} });
    actor.start();
    const snapshot = await waitFor(actor, (s) => describeState(s).detail === "created.backoff");
    expect(snapshot.context.lastError?.message).toMatch(/"acquireSlot" effect was not provided/);
    actor.stop();
  });
});

describe("decisions of the payout machine", () => {
  const at = 1_000_000;
  const start = () => {
    let s = startPayout(input);
    s = stepPayout(s, { type: "xstate.done.actor.acquireSlot", output: { at } }).snapshot;
    return s;
  };
  const error = (code: string, retryable: boolean, details?: Record<string, unknown>) => ({
    name: "Error",
    code,
    message: code,
    retryable,
    at,
    ...(details ? { details } : {}),
  });

  test("backoff deadlines are durable context, doubling up to the ceiling", () => {
    let s = start();
    const deadlines: number[] = [];
    for (let i = 0; i < 6; i++) {
      s = stepPayout(s, {
        type: "xstate.error.actor.createPiPayment",
        error: error("PI_UNREACHABLE", true),
      }).snapshot;
      deadlines.push(s.context.retryAt! - at);
      expect(pendingEffect(s)).toMatchObject({ src: "wait", input: { until: s.context.retryAt } });
      s = stepPayout(s, { type: "xstate.done.actor.waitToCreate", output: { at } }).snapshot;
    }
    expect(deadlines).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(pendingEffect(s)?.input).toMatchObject({ lookFirst: true });
  });

  test("a payment that differs from the intent is cancelled, never signed", () => {
    const s = stepPayout(start(), {
      type: "xstate.done.actor.createPiPayment",
      output: { payment: { ...payment, amount: 3 }, adopted: false, at },
    }).snapshot;
    expect(describeState(s).detail).toBe("created.rejecting");
    expect(pendingEffect(s)?.src).toBe("cancelPiPayment");
  });

  test("an envelope is only replaced once its fate says dead; the dead one is remembered", () => {
    let s = stepPayout(start(), {
      type: "xstate.done.actor.createPiPayment",
      output: { payment, adopted: false, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.buildTransaction",
      output: { status: "built", transaction, payment, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.submitTransaction",
      output: { status: "unknown", txid: transaction.txid, reason: "504", at },
    }).snapshot;
    expect(describeState(s).detail).toBe("submitted.waiting");
    s = stepPayout(s, { type: "xstate.done.actor.waitToResend", output: { at } }).snapshot;
    const pending = stepPayout(s, {
      type: "xstate.done.actor.checkFate",
      output: { status: "pending", at },
    }).snapshot;
    expect(pendingEffect(pending)).toMatchObject({
      src: "submitTransaction",
      input: { transaction },
    });
    const dead = stepPayout(s, {
      type: "xstate.done.actor.checkFate",
      output: { status: "dead", reason: "expired", at },
    }).snapshot;
    // A new envelope only after a backoff: a chain whose envelopes keep dying is not hammered.
    expect(describeState(dead).detail).toBe("stored.backoff");
    expect(dead.context).toMatchObject({
      transaction: null,
      recheckPayment: true,
      deadTransactions: [{ txid: transaction.txid, reason: "expired" }],
    });
    expect(dead.context.retryAt).toBe(at + 100);
    const rebuilt = stepPayout(dead, {
      type: "xstate.done.actor.waitToSign",
      output: { at },
    }).snapshot;
    expect(pendingEffect(rebuilt)).toMatchObject({
      src: "buildTransaction",
      input: { recheck: true },
    });
  });

  test("envelopes that keep dying stop the payout for a person after maxDeadEnvelopes, with growing waits", () => {
    let s = stepPayout(start(), {
      type: "xstate.done.actor.createPiPayment",
      output: { payment, adopted: false, at },
    }).snapshot;
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      s = stepPayout(s, {
        type: "xstate.done.actor.buildTransaction",
        output: {
          status: "built",
          transaction: { ...transaction, txid: String(i).repeat(64) },
          payment,
          at,
        },
      }).snapshot;
      s = stepPayout(s, {
        type: "xstate.done.actor.submitTransaction",
        output: {
          status: "failed",
          txid: "x",
          resultCodes: { transaction: "tx_too_late" },
          inLedger: false,
          at,
        },
      }).snapshot;
      s = stepPayout(s, {
        type: "xstate.done.actor.confirmFate",
        output: { status: "dead", reason: "expired", at },
      }).snapshot;
      if (s.context.retryAt !== null) waits.push(s.context.retryAt - at);
      if (describeState(s).state === "failed") break;
      s = stepPayout(s, { type: "xstate.done.actor.waitToSign", output: { at } }).snapshot;
    }
    expect(waits).toEqual([100, 200]);
    expect(s.context.failure).toMatchObject({
      code: "TRANSACTIONS_NOT_LANDING",
      resumeFrom: "stored",
      paymentOpen: true,
    });
    expect(s.context.deadTransactions).toHaveLength(3);
    // No envelope of it can land, yet its Pi payment holds Pi's slot: it is cancelled first.
    expect(describeState(s).detail).toBe("failed.releasing");
    expect(pendingEffect(s)).toMatchObject({ src: "cancelPiPayment" });
    s = stepPayout(s, {
      type: "xstate.done.actor.releasePayment",
      output: { payment: { ...payment, status: { ...payment.status, cancelled: true } }, at },
    }).snapshot;
    expect(describeState(s).detail).toBe("failed.resting");
    expect(s.context.failure).toMatchObject({ resumeFrom: "created", paymentOpen: false });
    s = stepPayout(s, { type: "RETRY", at }).snapshot;
    expect(describeState(s).detail).toBe("created.queued");
    expect(s.context.deathsInARow).toBe(0);
  });

  test("a retry asked while the failed payout's payment is being cancelled waits for it, then starts afresh", () => {
    let s = stepPayout(start(), {
      type: "xstate.done.actor.createPiPayment",
      output: { payment, adopted: false, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.buildTransaction",
      output: { status: "built", transaction, payment, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.submitTransaction",
      output: {
        status: "failed",
        txid: transaction.txid,
        resultCodes: { transaction: "tx_failed", operations: ["op_underfunded"] },
        inLedger: true,
        at,
      },
    }).snapshot;
    expect(describeState(s).detail).toBe("failed.releasing");
    expect(s.context.failure).toMatchObject({ code: "INSUFFICIENT_FUNDS", paymentOpen: true });
    s = stepPayout(s, { type: "RETRY", at }).snapshot;
    expect(describeState(s).detail).toBe("failed.releasing");
    s = stepPayout(s, {
      type: "xstate.done.actor.releasePayment",
      output: { payment, at },
    }).snapshot;
    expect(describeState(s).detail).toBe("created.queued");
    expect(s.context.failure).toBeNull();
    expect(s.context.deadTransactions).toEqual([
      { txid: transaction.txid, reason: "failed_in_ledger" },
    ]);
  });

  test("landed through another envelope of the same payment (it used the sequence): that one is the payout's transaction", () => {
    let s = stepPayout(start(), {
      type: "xstate.done.actor.createPiPayment",
      output: { payment, adopted: false, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.buildTransaction",
      output: { status: "built", transaction, payment, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.submitTransaction",
      output: {
        status: "failed",
        txid: transaction.txid,
        resultCodes: { transaction: "tx_bad_seq" },
        inLedger: false,
        at,
      },
    }).snapshot;
    const sibling = {
      txid: "c".repeat(64),
      ledger: 9,
      successful: true,
      memo: payment.identifier,
      source: wallet,
      sequence: transaction.sequence,
      operationCount: 1,
      payments: [],
    };
    s = stepPayout(s, {
      type: "xstate.done.actor.confirmFate",
      output: { status: "landed", transaction: sibling, at },
    }).snapshot;
    expect(describeState(s).detail).toBe("txStored.completing");
    expect(s.context.transaction?.txid).toBe(sibling.txid);
    expect(s.context.ledger).toBe(9);
    expect(s.context.deadTransactions).toEqual([
      { txid: transaction.txid, reason: "sequence_used" },
    ]);
    expect(pendingEffect(s)?.input).toMatchObject({ txid: sibling.txid });
  });

  test("a cancel during submission stops resending and waits for the envelope's fate", () => {
    let s = stepPayout(start(), {
      type: "xstate.done.actor.createPiPayment",
      output: { payment, adopted: false, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.buildTransaction",
      output: { status: "built", transaction, payment, at },
    }).snapshot;
    s = stepPayout(s, { type: "CANCEL", at }).snapshot;
    expect(s.context.cancelRequested).toBe(true);
    s = stepPayout(s, {
      type: "xstate.done.actor.submitTransaction",
      output: { status: "unknown", txid: transaction.txid, reason: "x", at },
    }).snapshot;
    s = stepPayout(s, { type: "xstate.done.actor.waitToResend", output: { at } }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.checkFate",
      output: { status: "pending", at },
    }).snapshot;
    expect(describeState(s).detail).toBe("submitted.waitingForBound");
    s = stepPayout(s, { type: "xstate.done.actor.waitForBound", output: { at } }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.confirmFate",
      output: { status: "dead", reason: "expired", at },
    }).snapshot;
    expect(describeState(s).detail).toBe("stored.cancelling");
  });

  test("a foreign ongoing payment fails the payout without holding the slot; RETRY queues again", () => {
    let s = stepPayout(start(), {
      type: "xstate.error.actor.createPiPayment",
      error: error("PI_ONGOING_PAYMENT_FOUND", false),
    }).snapshot;
    expect(s.context.failure).toMatchObject({
      code: "FOREIGN_ONGOING_PAYMENT",
      resumeFrom: "created",
      paymentOpen: false,
    });
    s = stepPayout(s, { type: "RETRY", at }).snapshot;
    expect(describeState(s).detail).toBe("created.queued");
    expect(s.context.failure).toBeNull();
  });

  test("completion: not_verified is retried, then asks a person; a cancelled payment after paying is named", () => {
    let s = stepPayout(start(), {
      type: "xstate.done.actor.createPiPayment",
      output: { payment, adopted: false, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.buildTransaction",
      output: { status: "built", transaction, payment, at },
    }).snapshot;
    s = stepPayout(s, {
      type: "xstate.done.actor.submitTransaction",
      output: { status: "applied", txid: transaction.txid, ledger: 3, at },
    }).snapshot;
    const txStored = s;
    for (let i = 0; i < 2; i++) {
      s = stepPayout(s, {
        type: "xstate.error.actor.completePiPayment",
        error: error("PI_NOT_VERIFIED", true),
      }).snapshot;
      s = stepPayout(s, { type: "xstate.done.actor.waitToComplete", output: { at } }).snapshot;
    }
    s = stepPayout(s, {
      type: "xstate.error.actor.completePiPayment",
      error: error("PI_NOT_VERIFIED", true),
    }).snapshot;
    expect(s.context.failure).toMatchObject({
      code: "NOT_VERIFIED",
      resumeFrom: "txStored",
      paymentOpen: true,
    });
    const cancelled = stepPayout(txStored, {
      type: "xstate.error.actor.completePiPayment",
      error: error("PI_CANCELLED_PAYMENT", false),
    }).snapshot;
    expect(cancelled.context.failure?.code).toBe("PAID_BUT_PAYMENT_CANCELLED");
  });
});
