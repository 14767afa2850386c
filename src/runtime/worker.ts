import { z } from "zod";
import { parseWith } from "../domain/validation.js";
import type { PayoutSnapshot } from "../machines/step.js";
import { internalsOf } from "./internals.js";
import type { MachineRunner } from "./machine-runner.js";
import type { Payouts } from "./types.js";

const workerOptionsSchema = z.strictObject({
  /** Payouts driven at once. @default 4 */
  concurrency: z.number().int().min(1).default(4),
  /** How often to look for claimable payouts when there are none, ms. @default the runtime's pollMs */
  pollMs: z.number().int().min(1).optional(),
});

/** Options of {@link createWorker}. */
export type WorkerOptions = z.input<typeof workerOptionsSchema>;

/** A worker draining the stored queue of payouts. */
export interface Worker {
  /** Stops claiming; the payouts in hand finish their current step, are saved, and their leases released. */
  stop(): Promise<void>;
  /** Resolves once the worker has stopped. */
  readonly done: Promise<void>;
  /** What it has done so far: payouts claimed, brought to rest, in hand. */
  stats(): { claimed: number; atRest: number; active: number };
}

/**
 * Starts a worker that drains the store's queue: it claims payouts nobody drives (oldest
 * first, a lease each) and drives them, `concurrency` at a time, until stopped. Any number
 * of processes may work the same store. Now and then it takes over the leases of a runner
 * of this host that provably died.
 *
 * @example
 * const worker = createWorker(payouts, { concurrency: 8 });
 * process.once("SIGTERM", () => worker.stop());
 */
export function createWorker(payouts: Payouts, options: WorkerOptions = {}): Worker {
  const { store, owner, leaseMs, runners, claims, ...runtime } = internalsOf(payouts);
  const settings = parseWith(workerOptionsSchema, options, "worker options", "INVALID_OPTIONS");
  runners.ensureOpen();
  const concurrency = settings.concurrency;
  const pollMs = settings.pollMs ?? runtime.pollMs;
  const mine = new Set<MachineRunner<PayoutSnapshot>>();
  let claimed = 0;
  let atRest = 0;
  let stopping = false;
  let wake: (() => void) | undefined;
  const nap = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const track = (runner: MachineRunner<PayoutSnapshot>) => {
    claimed += 1;
    mine.add(runner);
    const forget = (rested: boolean) => {
      mine.delete(runner);
      if (rested) atRest += 1;
      wake?.();
    };
    void runner.done.then(
      (end) => forget(end.status === "at rest"),
      () => forget(false),
    );
  };
  const sweepEveryMs = Math.max(pollMs, Math.floor(leaseMs / 3));
  let sweptAt = Number.NEGATIVE_INFINITY;
  const loop = async () => {
    while (!stopping && !runners.isClosed) {
      if (Date.now() - sweptAt >= sweepEveryMs) {
        sweptAt = Date.now();
        for (const key of await claims.sweepGone().catch(() => [])) {
          const runner = runners.get(key);
          if (runner && !mine.has(runner)) track(runner);
        }
      }
      let took = false;
      while (!stopping && mine.size < concurrency) {
        const payout = await store.claimNext(owner, leaseMs, runners.keys()).catch(() => undefined);
        if (!payout || stopping || runners.isClosed) break;
        took = true;
        // Version 1 has never run an effect (the first one queues for a slot): nothing to replay.
        track(runners.get(payout.key) ?? runners.start(payout, { fresh: payout.version === 1 }));
      }
      if (!took || mine.size >= concurrency) await nap();
    }
    for (const runner of mine) runner.stop("closed");
    await Promise.allSettled([...mine].map((runner) => runner.done));
  };
  const done = loop();
  return {
    done,
    async stop() {
      stopping = true;
      wake?.();
      await done;
    },
    stats: () => ({ claimed, atRest, active: mine.size }),
  };
}
