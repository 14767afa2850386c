import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { createActor, fromPromise, initialTransition, transition } from "xstate";
import { parseAmount } from "../../src/domain/index.js";
import {
  type PayoutMachineEvent,
  type PayoutSnapshot,
  payoutMachine,
  pendingEffect,
  startPayout,
  stepPayout,
} from "../../src/machines/index.js";
import type { PayoutInput } from "../../src/machines/types.js";
import { a2uPayment } from "../helpers/payment.js";

/**
 * src/machines/xstate-adapter.ts reads xstate past its public API (a transition's actor
 * scope, the state nodes' invoke definitions). These tests compare it with xstate's own
 * public functions and its own runtime, so that an xstate upgrade that changes either fails
 * here, loudly, instead of somewhere a payout is driven.
 */

const verified = ["5.33.3"];

const wallet = Keypair.random().publicKey();
const input: PayoutInput = {
  key: "adapter",
  intent: { uid: "u", amount: parseAmount("2"), memo: "m", metadata: {} },
  walletAddress: wallet,
  network: "Pi Testnet",
  slotScope: `app:${wallet}`,
  timing: {
    baseDelayMs: 10,
    maxDelayMs: 100,
    maxNotVerified: 2,
    createGraceMs: 0,
    maxDeadEnvelopes: 2,
  },
};
const at = 1_000;
const payment = a2uPayment({
  from_address: wallet,
  to_address: Keypair.random().publicKey(),
  user_uid: "u",
});
const transaction = {
  envelope: "AAAA",
  txid: "a".repeat(64),
  source: wallet,
  sequence: "2",
  maxTime: 100,
};

/** A walk through the machine: every kind of event, each branch the runtime takes. */
const walk: PayoutMachineEvent[] = [
  { type: "xstate.done.actor.acquireSlot", output: { at } },
  {
    type: "xstate.error.actor.createPiPayment",
    error: { code: "PI_UNREACHABLE", retryable: true, at, name: "PiApiError", message: "m" },
  },
  { type: "xstate.done.actor.waitToCreate", output: { at } },
  { type: "xstate.done.actor.createPiPayment", output: { payment, adopted: false, at } },
  {
    type: "xstate.done.actor.buildTransaction",
    output: { status: "built", transaction, payment, at },
  },
  { type: "CANCEL", at },
  {
    type: "xstate.done.actor.submitTransaction",
    output: { status: "unknown", txid: transaction.txid, reason: "504", at },
  },
  { type: "xstate.done.actor.waitToResend", output: { at } },
  { type: "xstate.done.actor.checkFate", output: { status: "pending", at } },
  { type: "xstate.done.actor.waitForBound", output: { at } },
  {
    type: "xstate.done.actor.confirmFate",
    output: {
      status: "landed",
      transaction: {
        ...transaction,
        ledger: 3,
        successful: true,
        memo: payment.identifier,
        operationCount: 1,
        payments: [],
      },
      at,
    },
  },
  { type: "xstate.done.actor.completePiPayment", output: { payment, at } },
];

describe("the xstate adapter", () => {
  test("xstate is the version the adapter was verified against (re-check src/machines/xstate-adapter.ts before moving it)", () => {
    const require = createRequire(import.meta.url);
    const installed = JSON.parse(readFileSync(require.resolve("xstate/package.json"), "utf8"))
      .version as string;
    const pinned = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
      .dependencies.xstate as string;
    expect(verified, `xstate ${installed} is not a verified version`).toContain(installed);
    expect(pinned).toBe(installed);
  });

  test("a first snapshot in the cached scope is xstate's initialTransition()", () => {
    const [theirs] = initialTransition(payoutMachine, input);
    const ours = startPayout(input);
    expect(ours.value).toEqual(theirs.value);
    expect(ours.context).toEqual(theirs.context);
  });

  test("every step in the cached scope is xstate's transition(), state and context", () => {
    let ours: PayoutSnapshot = startPayout(input);
    let [theirs] = initialTransition(payoutMachine, input);
    for (const event of walk) {
      ours = stepPayout(ours, event).snapshot;
      [theirs] = transition(payoutMachine, theirs, event as never);
      expect(ours.value, event.type).toEqual(theirs.value);
      expect(ours.context, event.type).toEqual(theirs.context);
    }
    expect(ours.value).toBe("completed");
  });

  test("the pending effect read off the state nodes is the child xstate's own runtime invokes", () => {
    // Effects that never finish: the actor stays in each state long enough to look at it.
    // One logic stands for every effect; its output type is beside the point here.
    const never = fromPromise(() => new Promise<never>(() => {})) as unknown as never;
    const machine = payoutMachine.provide({
      actors: {
        acquireSlot: never,
        createPiPayment: never,
        buildTransaction: never,
        submitTransaction: never,
        checkFate: never,
        completePiPayment: never,
        cancelPiPayment: never,
        wait: never,
      },
    });
    let snapshot: PayoutSnapshot = startPayout(input);
    for (const event of [undefined, ...walk]) {
      if (event) snapshot = stepPayout(snapshot, event).snapshot;
      const pending = pendingEffect(snapshot);
      if (!pending) continue;
      const actor = createActor(machine, {
        snapshot: payoutMachine.getPersistedSnapshot(snapshot) as never,
        input,
      }).start();
      const children = actor.getSnapshot().children as Record<string, { src: unknown }>;
      expect(Object.keys(children), JSON.stringify(snapshot.value)).toEqual([pending.id]);
      expect(children[pending.id]?.src).toBe(pending.src);
      actor.stop();
    }
  });
});
