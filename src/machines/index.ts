export { chainFailureCode, failureMessage, failureReasons, isTransient } from "./classify.js";
export { type PayoutMachine, payoutMachine } from "./payout-machine.js";
export {
  describeState,
  isSettled,
  type PayoutEvent,
  type PayoutSnapshot,
  type PendingEffect,
  type PersistedPayoutSnapshot,
  pendingEffect,
  persistPayout,
  restorePayout,
  startPayout,
  stepPayout,
} from "./step.js";
export * from "./types.js";
