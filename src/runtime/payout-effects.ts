import { setTimeout as sleep } from "node:timers/promises";
import type { ChainTransaction, PiChain, PiPlatform } from "../adapters/types.js";
import { assertPaymentMatches } from "../domain/check-payment.js";
import { isOngoingPaymentError, PiPaymentsError } from "../domain/errors.js";
import { PAYOUT_KEY_FIELD } from "../domain/payout-args.js";
import type { PayoutEffects } from "../machines/payout-effects.js";
import type { FoundTransaction } from "../machines/types.js";
import type { PayoutStore } from "../storage/types.js";
import type { SlotGate } from "./slot-gate.js";
import { isStray } from "./strays.js";

/** What the payout machine's effects are made of. */
export interface PayoutEffectDeps {
  /** Pi's Platform API. */
  platform: PiPlatform;
  /** The Pi blockchain, for the app wallet. */
  chain: PiChain;
  /** Where payouts live (to recognise a blocker that is one of ours). */
  store: PayoutStore;
  /** The slot queue of this process. */
  slots: SlotGate;
  /** The runtime's clock, in ms. */
  now: () => number;
}

/**
 * The payout machine's effects (Temporal would call them activities), as declared in
 * `payoutEffects`. Each one is safe to run again from the same snapshot (DESIGN P2): create
 * looks for its own payment first when it may have run before, submit re-sends the stored
 * envelope, complete and cancel accept Pi's answers to a replay.
 */
export function createPayoutEffects(deps: PayoutEffectDeps): PayoutEffects {
  const { platform, chain, store, slots, now } = deps;

  const findOurs = async (key: string) =>
    (await platform.incompleteServerPayments()).find(
      (payment) => payment.metadata?.[PAYOUT_KEY_FIELD] === key,
    );

  /** The incomplete payment in the way of a create, read from Pi's list: ours first, then the user's. */
  const blockerOf = async (key: string, uid: string) => {
    const incomplete = await platform.incompleteServerPayments();
    return (
      incomplete.find((p) => p.metadata?.[PAYOUT_KEY_FIELD] === key) ??
      incomplete.find((p) => p.user_uid === uid) ??
      incomplete[0]
    );
  };

  return {
    async acquireSlot({ key, scope }, { signal }) {
      await slots.acquire(scope, key, signal);
      return {};
    },

    async createPiPayment({ key, intent, lookFirst, onlyFind }, { replay, signal }) {
      if (lookFirst || replay || onlyFind) {
        const ours = await findOurs(key);
        if (ours) return { payment: ours, adopted: true };
        if (onlyFind) return { payment: null, adopted: false };
      }
      const cancelledStrays: string[] = [];
      for (;;) {
        // A runner stopped meanwhile (crashed, its lease lost) saves nothing of this: a
        // create sent now would reach Pi after another runner may have ended the payout
        // (found nothing above because it completed), a stray holding Pi's slot. Send none.
        signal.throwIfAborted();
        try {
          const payment = await platform.createPayment({
            uid: intent.uid,
            amount: intent.amount,
            memo: intent.memo,
            metadata: { ...intent.metadata, [PAYOUT_KEY_FIELD]: key },
          });
          return {
            payment,
            adopted: false,
            ...(cancelledStrays.length ? { cancelledStrays } : {}),
          };
        } catch (error) {
          if (!isOngoingPaymentError(error)) throw error;
          const blocking = error.payment ?? (await blockerOf(key, intent.uid));
          // Pi named no blocker we could read, and lists none now: whose it is, is not known.
          if (!blocking) {
            throw new PiPaymentsError(
              "Pi refused to create the payment because another one is incomplete, yet named none that parses and lists none now; this payout tries again.",
              { code: "ONGOING_PAYMENT_UNSEEN", retryable: true },
            );
          }
          const blocker = blocking.metadata?.[PAYOUT_KEY_FIELD];
          // Our own payment from an attempt whose answer was lost: adopt it (P2).
          if (blocker === key) return { payment: blocking, adopted: true };
          const record = typeof blocker === "string" ? await store.get(blocker) : undefined;
          // A late create of a payout that has ended: cancel it and try again instead of
          // waiting for `recover()` (the journal records which). Three strays in one create
          // would mean something else is wrong: then the usual blocked path below applies.
          if (isStray(record, blocking) && cancelledStrays.length < 3) {
            await platform.cancelPayment(blocking.identifier);
            cancelledStrays.push(blocking.identifier);
            continue;
          }
          // Another payout of ours holds Pi's slot (Pi applies the rule more widely than
          // configured): wait for it rather than fail.
          if (record !== undefined) {
            throw new PiPaymentsError(
              `Pi is busy with payout ${blocker}'s payment ${blocking.identifier}; this payout waits for it.`,
              { code: "BLOCKED_BY_OWN_PAYOUT", retryable: true, details: { blockingKey: blocker } },
            );
          }
          throw error;
        }
      }
    },

    async buildTransaction({ payment, intent, recheck, requestedAt, notBefore }, { replay }) {
      const request = {
        paymentId: payment.identifier,
        to: payment.to_address,
        amount: intent.amount,
      };
      // A payment nothing was ever signed for can have no transaction: build at once.
      if (!recheck && !replay) {
        return { status: "built", transaction: await chain.buildPayment(request), payment };
      }
      // After a wait, a crash, a dead envelope or an adoption: a landed transaction of this
      // payment (Pi links them late, and a store may have lost its record) must be completed,
      // never paid again. Looked for before Pi's view, since Pi may have cancelled a paid one.
      const expected = {
        ...request,
        createdAt: payment.created_at,
        requestedAt: requestedAt ?? undefined,
      };
      const earlier = await chain.findPaymentTransaction(expected);
      if (earlier.found) {
        return {
          status: "landed",
          transaction: summary(earlier.found),
          payment,
          ignored: earlier.ignored,
        };
      }
      // Pi may have cancelled or changed the payment meanwhile, or linked a transaction that
      // is not ours to it: then it must not be signed for (P5).
      const current = await platform.getPayment(payment.identifier);
      assertPaymentMatches(current, {
        walletAddress: chain.walletAddress,
        network: chain.network,
        amount: intent.amount,
        uid: intent.uid,
        toAddress: payment.to_address,
      });
      // An envelope that is not saved (a cancel stopped this meanwhile) is never sent: the
      // runner gives its sequence back.
      const prepared = await chain.preparePayment(
        { ...expected, to: current.to_address },
        notBefore === null || notBefore === undefined ? {} : { notBefore },
      );
      const ignored = [...earlier.ignored, ...prepared.ignored];
      return prepared.status === "landed"
        ? {
            status: "landed",
            transaction: summary(prepared.transaction),
            payment: current,
            ignored,
          }
        : { status: "built", transaction: prepared.transaction, payment: current, ignored };
    },

    submitTransaction: ({ transaction }) => chain.submit(transaction),

    checkFate: ({ transaction }) => chain.fate(transaction),

    async completePiPayment({ paymentId, txid }) {
      return { payment: await platform.completePayment(paymentId, txid) };
    },

    async cancelPiPayment({ paymentId }) {
      return { payment: await platform.cancelPayment(paymentId) };
    },

    async wait({ until }, { signal }) {
      const delay = until - now();
      if (delay > 0) await sleep(delay, undefined, { signal });
      return {};
    },
  };
}

/** What the machine keeps of a landed transaction found on chain. */
function summary(tx: ChainTransaction): FoundTransaction {
  return { txid: tx.txid, ledger: tx.ledger, source: tx.source, sequence: tx.sequence };
}
