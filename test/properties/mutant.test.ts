import fc from "fast-check";
import { expect, test } from "vitest";
import type { PayoutEffects } from "../../src/machines/payout-effects.js";
import {
  checkInvariants,
  commands,
  drain,
  type System,
  settings,
  startSystem,
  stopSystem,
} from "./payout-system.js";

/**
 * A deliberately unsafe runtime: on a resumed run, submit signs a fresh envelope instead
 * of re-sending the stored one (what the official SDKs' retry amounts to). The property
 * suite must catch it: an answer lost or a crash after Horizon applied the first envelope,
 * then a resume, pays twice.
 */
function freshEnvelopeOnResume(system: () => System): Partial<PayoutEffects> {
  return {
    async submitTransaction({ key, transaction }, { replay }) {
      // The runtime's own chain adapter, so that its envelope bookkeeping sees every send.
      const { store, chain } = system();
      if (!replay) return chain.submit(transaction);
      const payout = (await store.get(key))!;
      const payment = payout.snapshot.context.payment!;
      const fresh = await chain.buildPayment({
        paymentId: payment.identifier,
        to: payment.to_address,
        amount: payout.intent.amount,
      });
      return chain.submit(fresh);
    },
  };
}

test("the property suite catches a runtime that signs a fresh envelope on resume", async () => {
  const result = await fc.check(
    fc.asyncProperty(settings, commands, async (options, cmds) => {
      const system = await startSystem({
        seed: options.seed,
        incompleteLimit: options.incompleteLimit,
        sandboxLimit: options.incompleteLimit,
        linkLagMs: options.linkLagMs,
        mutant: freshEnvelopeOnResume,
      });
      try {
        await fc.asyncModelRun(() => ({ model: {}, real: system }), cmds);
        await checkInvariants(system, await drain(system, 5_000));
      } finally {
        await stopSystem(system);
      }
    }),
    { numRuns: 1000, endOnFailure: true },
  );
  expect(result.failed).toBe(true);
  const why = String((result.errorInstance as Error | undefined)?.message ?? "");
  console.log(
    `mutant caught after ${result.numRuns} runs (seed ${result.seed}, path ${result.counterexamplePath}): ${why.split("\n")[0]}`,
  );
  // Caught by a double pay, or by what it leaves behind (a payout stuck behind one it broke).
  expect(why).toMatch(/applied payments|paid in its txid|settled|did not settle/);
}, 600_000);
