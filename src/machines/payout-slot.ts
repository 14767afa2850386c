import type { PayoutSnapshot } from "./step.js";
import { describeState } from "./step.js";

/**
 * Whether a payout may hold its scope's one-incomplete-payment slot in this state: until its
 * Pi payment can no longer be open. `completed` and `cancelled` hold nothing; `failed` holds
 * the slot only while its payment stays open (a refused envelope watched, a landed one Pi
 * will not complete), and gives it up once the payment is cancelled.
 */
export function holdsSlot(snapshot: PayoutSnapshot): boolean {
  const { state } = describeState(snapshot);
  if (state === "completed" || state === "cancelled") return false;
  return !(state === "failed" && snapshot.context.failure?.paymentOpen === false);
}
