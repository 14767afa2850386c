import { describeState, type PayoutSnapshot } from "./step.js";

/**
 * Whether saving `next` after `previous` must survive a power cut before anything goes on.
 * Every save survives a process crash; a power cut may undo the last ones, and the payout
 * then resumes from an earlier step. That is safe for every step but two, which cannot be
 * taken back: a new envelope about to be sent (redone from `stored`, a second envelope could
 * be built while the first lands), and a cancel (redone, a cancelled payout could be paid).
 * A new payout is also durable: its store makes every accepted intent so.
 */
export function mustSurvivePowerCut(previous: PayoutSnapshot, next: PayoutSnapshot): boolean {
  const envelope = next.context.transaction;
  if (envelope?.envelope && envelope.txid !== previous.context.transaction?.txid) return true;
  return describeState(next).state === "cancelled" && describeState(previous).state !== "cancelled";
}
