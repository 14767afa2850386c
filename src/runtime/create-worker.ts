import type { Payouts, Worker, WorkerOptions } from "./create-payouts.js";

/**
 * Starts a worker that drains the store's queue of payouts (see {@link Payouts.work}).
 *
 * @example
 * const worker = createWorker(payouts, { concurrency: 8 });
 * process.once("SIGTERM", () => worker.stop());
 */
export function createWorker(payouts: Payouts, options: WorkerOptions = {}): Worker {
  return payouts.work(options);
}
