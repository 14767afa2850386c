import type { PayoutMachine } from "../machines/payout-machine.js";
import { type PayoutSnapshot, restorePayout } from "../machines/step.js";
import type { StoredPayout } from "../storage/types.js";
import { createPayoutInspection, type InspectOption } from "./inspection.js";
import { toPayout } from "./payout-view.js";
import type { SavedStep } from "./runner-types.js";
import type { Scrubber } from "./scrub.js";
import type { PayoutStep } from "./types.js";

/** Hands every saved step of this runtime on: to `subscribe()` listeners and the inspector. */
export interface StepFanOut {
  /** A saved step. */
  step(step: SavedStep, snapshot: PayoutSnapshot): void;
  /** A payout just stored (its first step). */
  created(payout: StoredPayout): void;
  subscribe(listener: (step: PayoutStep) => void): () => void;
  /**
   * Calls `wake` after every saved step, with nothing: for whoever only needs to know that
   * one happened (an event consumer reads the step from the store). No step view is built
   * for it, where a subscriber costs one per step.
   */
  onStep(wake: () => void): () => void;
  stop(): Promise<void>;
}

/** The fan-out of one runtime's steps. Neither a listener's bug nor the inspector stops a payout. */
export function createStepFanOut(deps: {
  machine: PayoutMachine;
  scrub: Scrubber;
  inspect: InspectOption | undefined;
}): StepFanOut {
  const listeners = new Set<(step: PayoutStep) => void>();
  const wakers = new Set<() => void>();
  const inspection = deps.inspect
    ? createPayoutInspection(deps.inspect, deps.machine, deps.scrub)
    : undefined;
  // Keep the runtime alive if the inspector cannot start; it only watches.
  inspection?.catch(() => undefined);

  const inspect = (saved: SavedStep, snapshot: PayoutSnapshot) => {
    void inspection?.then(
      (i) => i.transition(saved.key, saved.event, saved.details, snapshot),
      () => undefined,
    );
  };

  const fanOut = (saved: SavedStep) => {
    for (const wake of wakers) {
      try {
        wake();
      } catch {
        // As a subscriber's: a waker's bug must not stop a payout.
      }
    }
    if (listeners.size === 0) return;
    const { details: _details, ...rest } = saved;
    const event: PayoutStep = { ...rest, payout: toPayout(saved.payout) };
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's bug must not stop a payout.
      }
    }
  };

  return {
    step(saved, snapshot) {
      if (inspection) inspect(saved, snapshot);
      fanOut(saved);
    },
    created(payout) {
      const saved: SavedStep = {
        key: payout.key,
        from: "",
        to: payout.stateDetail,
        event: payout.snapshot.context.createAttempts > 0 ? "ADOPT" : "PAY",
        details: {},
        at: payout.createdAt,
        payout,
      };
      // The inspector alone reads a live snapshot: restored only when it watches.
      if (inspection) inspect(saved, restorePayout(payout.snapshot, deps.machine));
      fanOut(saved);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onStep(wake) {
      wakers.add(wake);
      return () => wakers.delete(wake);
    },
    async stop() {
      await inspection?.then(
        (i) => i.stop(),
        () => undefined,
      );
    },
  };
}
