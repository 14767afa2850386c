import type { Attributes, Counter, Histogram, MeterProvider } from "@opentelemetry/api";
import { describeState, type PayoutSnapshot } from "../machines/step.js";
import { PAYOUT_STATES, type PayoutState } from "../machines/types.js";
import type { PendingInvoke } from "../machines/xstate-adapter.js";
import type { SavedStep } from "../runtime/runner-types.js";
import type { StoredPayout } from "../storage/types.js";
import type { EffectFacts } from "./effect-facts.js";
import type { OtelApi } from "./load-otel.js";
import { ATTR, INSTRUMENTATION_SCOPE, METRIC } from "./telemetry-names.js";
import type { CachedBalance } from "./wallet-balance.js";

/** The metrics of this runtime's payouts. No label names a payout: cardinality stays bounded. */
export interface PayoutMetrics {
  started(record: StoredPayout, snapshot: PayoutSnapshot): void;
  effectEnded(effect: PendingInvoke, facts: EffectFacts, seconds: number): void;
  saved(step: SavedStep): void;
  ended(key: string): void;
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
 * effect's end, a save): no store query, no timer. `payouts.active` is what this process
 * drives now, from the runners' own knowledge; a fleet's total is the sum over processes.
 */
export function createPayoutMetrics(
  api: OtelApi,
  provider: MeterProvider | undefined,
  deps: { network: string; balance: CachedBalance },
): PayoutMetrics {
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
  const active = new Map<string, PayoutState>();
  meter
    .createObservableGauge(METRIC.active, {
      description: "Payouts this process drives now, by main state",
      unit: "{payout}",
    })
    .addCallback((result) => {
      const counts = new Map<PayoutState, number>(activeStates.map((state) => [state, 0]));
      for (const state of active.values()) counts.set(state, (counts.get(state) ?? 0) + 1);
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

  return {
    started(record, snapshot) {
      active.set(record.key, describeState(snapshot).state);
    },

    effectEnded(effect, facts, seconds) {
      const labels: Attributes = { [ATTR.step]: effect.src };
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

    saved({ key, payout }) {
      if (!payout.atRest) {
        active.set(key, payout.state);
        return;
      }
      active.delete(key);
      const outcome: Attributes = { [ATTR.outcome]: payout.state };
      const failure = payout.snapshot.context.failure;
      payouts.add(
        1,
        payout.state === "failed" && failure
          ? { ...outcome, [ATTR.errorType]: failure.code }
          : outcome,
      );
      const seconds = (Date.parse(payout.updatedAt) - Date.parse(payout.createdAt)) / 1000;
      if (Number.isFinite(seconds) && seconds >= 0) payoutDuration.record(seconds, outcome);
    },

    ended(key) {
      active.delete(key);
    },
  };
}
