export { createPayouts } from "./create-payouts.js";
export type { InspectOption, InspectorLike } from "./inspection.js";
export type { OnSettled, PayoutsOptions } from "./options.js";
export type { Payout, SlotBlocker } from "./payout-view.js";
export type { Probe, ProbePoint } from "./runner-types.js";
export type {
  CommandOptions,
  EnqueueOptions,
  PayOptions,
  PayoutFilter,
  PayoutStep,
  Payouts,
  RecoveryReport,
} from "./types.js";
export { createWorker, type Worker, type WorkerOptions } from "./worker.js";
