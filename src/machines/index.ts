export { failureReasons } from "../domain/failure-reasons.js";
export { chainFailureCode, failureMessage } from "./failure-codes.js";
export { type PayoutMachine, payoutMachine } from "./payout-machine.js";
export {
  describeState,
  isAtRest,
  type PayoutMachineEvent,
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
