import type { Attributes, Counter, Histogram, MeterProvider } from "@opentelemetry/api";
import { PAYOUT_STATES, type PayoutState } from "../machines/types.js";
import type { StoredPayout } from "../storage/types.js";
import type { DeferredWork } from "./deferred-work.js";
import type { EffectFacts } from "./effect-facts.js";
import type { OtelApi } from "./load-otel.js";
import { ATTR, INSTRUMENTATION_SCOPE, METRIC } from "./telemetry-names.js";
import type { CachedBalance } from "./wallet-balance.js";

/** The metrics of this runtime's payouts. No label names a payout: cardinality stays bounded. */
export interface PayoutMetrics {
  /** A run starts, its payout in `state`: it counts in `payouts.active` until it ends. */
  startRun(state: PayoutState): ActiveRun;
  /** An effect took `seconds` and ended so (called from a batch of DeferredWork). */
  effectEnded(src: string, facts: EffectFacts, seconds: number): void;
  /** A save of the run: its state now; at rest, its outcome and duration (recorded in a batch). */
  saved(run: ActiveRun, payout: StoredPayout): void;
  ended(run: ActiveRun): void;
}

/** A run counted in `payouts.active`, by the main state it is in. */
export interface ActiveRun {
  state: PayoutState;
}

/** Seconds, from a fast effect (a local sandbox answers in ms) to a payout that waited minutes. */
const secondsBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600,
];

/** The states a payout can be driven in: `completed` and `cancelled` are never active. */
const activeStates = PAYOUT_STATES.filter(
  (state) => state !== "completed" && state !== "cancelled",
);

/**
 * Metrics through the API only. Everything is counted where the runner already is (an
 * effect's end, a save): no store query. `payouts.active` is what this process drives now,
 * from the runners' own knowledge; a fleet's total is the sum over processes. Figures are
 * measured when things happen and recorded in batches (see DeferredWork); `effectEnded`
 * is called from such a batch already.
 */
export function createPayoutMetrics(
  api: OtelApi,
  provider: MeterProvider | undefined,
  deps: { network: string; balance: CachedBalance; work: DeferredWork },
): PayoutMetrics {
  const { work } = deps;
  const meter = (provider ?? api.metrics).getMeter(INSTRUMENTATION_SCOPE);
  const payouts: Counter = meter.createCounter(METRIC.payouts, {
    description: "Payouts that came to rest, by outcome (and error.type when failed)",
    unit: "{payout}",
  });
  const payoutDuration: Histogram = meter.createHistogram(METRIC.payoutDuration, {
    description: "From intake to rest, across crashes and processes",
    unit: "s",
    advice: { explicitBucketBoundaries: secondsBuckets },
  });
  const stepDuration: Histogram = meter.createHistogram(METRIC.stepDuration, {
    description: "One effect, from start to result, by step (and error.type when it failed)",
    unit: "s",
    advice: { explicitBucketBoundaries: secondsBuckets },
  });
  const horizonErrors: Counter = meter.createCounter(METRIC.horizonErrors, {
    description: "Horizon answers that carried result codes (refusals, failed transactions)",
    unit: "{error}",
  });
  const active = new Set<ActiveRun>();
  meter
    .createObservableGauge(METRIC.active, {
      description: "Payouts this process drives now, by main state",
      unit: "{payout}",
    })
    .addCallback((result) => {
      // A collection (a scrape, a periodic export) sees every figure up to now: what waits for
      // its batch is recorded first. The SDK calls a meter's observable callbacks before it
      // reads the meter's other instruments (sdk-metrics' MeterSharedState.collect).
      work.flush();
      const counts = new Map<PayoutState, number>(activeStates.map((state) => [state, 0]));
      for (const { state } of active) counts.set(state, (counts.get(state) ?? 0) + 1);
      for (const [state, count] of counts) result.observe(count, { [ATTR.state]: state });
    });
  meter
    .createObservableGauge(METRIC.walletBalance, {
      description: "The app wallet's native balance (read at most once per cache period)",
      unit: "{pi}",
    })
    .addCallback(async (result) => {
      const balance = await deps.balance();
      if (balance !== undefined) result.observe(balance, { [ATTR.network]: deps.network });
    });

  /** A payout came to rest: by outcome (and code), and how long it took from intake. */
  const recordRest = (state: PayoutState, failure: string | undefined, seconds: number) => {
    const outcome: Attributes = { [ATTR.outcome]: state };
    payouts.add(1, failure === undefined ? outcome : { ...outcome, [ATTR.errorType]: failure });
    if (Number.isFinite(seconds) && seconds >= 0) payoutDuration.record(seconds, outcome);
  };

  return {
    startRun(state) {
      const run = { state };
      active.add(run);
      return run;
    },

    effectEnded(src, facts, seconds) {
      const labels: Attributes = { [ATTR.step]: src };
      if (facts.errorType) labels[ATTR.errorType] = facts.errorType;
      stepDuration.record(seconds, labels);
      if (facts.horizon) {
        horizonErrors.add(1, {
          [ATTR.horizonResultCode]: facts.horizon.transaction,
          ...(facts.horizon.operation
            ? { [ATTR.horizonOperationCode]: facts.horizon.operation }
            : {}),
        });
      }
    },

    saved(run, payout) {
      if (!payout.atRest) {
        run.state = payout.state;
        // Back in the count if a command moved it on from rest within the same run.
        active.add(run);
        return;
      }
      active.delete(run);
      // Read now: the batch keeps a few values, not the stored payout.
      const failure = payout.state === "failed" ? payout.snapshot.context.failure?.code : undefined;
      const seconds = (Date.parse(payout.updatedAt) - Date.parse(payout.createdAt)) / 1000;
      queueRest(work, recordRest, payout.state, failure, seconds);
    },

    ended(run) {
      active.delete(run);
    },
  };
}

/** Made here so that the task holds only its arguments (see queueEffect in watched-run.ts). */
function queueRest(
  work: DeferredWork,
  record: (state: PayoutState, failure: string | undefined, seconds: number) => void,
  state: PayoutState,
  failure: string | undefined,
  seconds: number,
): void {
  work.later(() => record(state, failure, seconds));
}
