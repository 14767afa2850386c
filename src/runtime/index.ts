export {
  type Activities,
  type ActivityContext,
  type ActivityDeps,
  createActivities,
} from "./activities.js";
export {
  createPayouts,
  type PayoutEvent,
  type Payouts,
  type PayoutsOptions,
  type RecoveryReport,
} from "./create-payouts.js";
export { type Payout, toPayout } from "./payout-view.js";
export type { Probe, ProbePoint } from "./runner.js";
