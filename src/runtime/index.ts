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
  type Worker,
  type WorkerOptions,
} from "./create-payouts.js";
export { createWorker } from "./create-worker.js";
export type { InspectOption, InspectorLike } from "./inspection.js";
export { type Payout, toPayout } from "./payout-view.js";
export type { Probe, ProbePoint } from "./runner.js";
