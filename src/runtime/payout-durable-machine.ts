import type { SignedTransaction } from "../adapters/types.js";
import type { JsonObject } from "../domain/json.js";
import { mustSurvivePowerCut } from "../machines/payout-durability.js";
import type { PayoutEffects } from "../machines/payout-effects.js";
import type { PayoutMachine } from "../machines/payout-machine.js";
import { holdsSlot } from "../machines/payout-slot.js";
import {
  describeState,
  type PayoutSnapshot,
  type PersistedPayoutSnapshot,
  pendingEffect,
  restorePayout,
  stepPayout,
} from "../machines/step.js";
import type { DurableMachine } from "./durable-machine.js";
import { payoutJournalDetails } from "./payout-journal.js";
import { toPayout } from "./payout-view.js";
import { payoutWrite } from "./payout-write.js";

/** What the payout machine needs besides itself to be driven. */
export interface PayoutDriving {
  machine: PayoutMachine;
  effects: PayoutEffects;
  /**
   * Tells the chain adapter that this process will not send an envelope (any more): one
   * built but never saved, or the saved one of a payout it stops driving. Frees the source
   * account's sequence number for this process's next envelope.
   */
  giveBack: (transaction: SignedTransaction) => void;
}

/** The payout machine as the runtime drives it. */
export function payoutDurableMachine(deps: PayoutDriving): DurableMachine<PayoutSnapshot> {
  const { machine, effects, giveBack } = deps;
  return {
    restore: (persisted) => restorePayout(persisted as PersistedPayoutSnapshot, machine),
    step: (snapshot, event) => stepPayout(snapshot, event, machine).snapshot,
    pendingEffect: (snapshot) => pendingEffect(snapshot, machine),
    describe: describeState,
    write: payoutWrite,
    mustSurvivePowerCut,
    releasedSlot: (snapshot) => (holdsSlot(snapshot) ? undefined : snapshot.context.slotScope),
    journalDetails: payoutJournalDetails,
    view: (record) => toPayout(record) as unknown as JsonObject,
    discardOutput: (output) => {
      const built = (output as { transaction?: SignedTransaction } | undefined)?.transaction;
      // Only a built envelope (one with bytes to send) holds a sequence number.
      if (built?.envelope) giveBack(built);
    },
    leave: (snapshot) => {
      const saved = snapshot.context.transaction;
      if (saved) giveBack(saved);
    },
    effects,
    harmless: new Set(["wait", "acquireSlot"]),
  };
}
