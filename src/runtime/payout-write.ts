import { holdsSlot } from "../machines/payout-slot.js";
import { describeState, isAtRest, type PayoutSnapshot, persistPayout } from "../machines/step.js";
import type { PayoutWrite } from "../storage/types.js";

/** What the store keeps of a payout's snapshot: the one mapping, for intake and every save. */
export function payoutWrite(snapshot: PayoutSnapshot, at: string): PayoutWrite {
  const { state, detail } = describeState(snapshot);
  const context = snapshot.context;
  return {
    snapshot: persistPayout(snapshot),
    state,
    stateDetail: detail,
    paymentId: context.paymentId,
    txid: context.transaction?.txid ?? null,
    atRest: isAtRest(snapshot),
    holdsSlot: holdsSlot(snapshot),
    at,
  };
}
