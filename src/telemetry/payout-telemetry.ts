import type { MeterProvider, TracerProvider } from "@opentelemetry/api";
import type { PayoutSnapshot } from "../machines/step.js";
import type { RunObserver } from "../runtime/runner-types.js";
import { DeferredWork } from "./deferred-work.js";
import { loadOtel, type OtelResolver } from "./load-otel.js";
import { type ActiveRun, createPayoutMetrics } from "./payout-metrics.js";
import { createPayoutTracing, type IntakeTrace } from "./payout-tracing.js";
import { registeredSdk } from "./sdk-presence.js";
import type { TelemetrySettings } from "./telemetry-options.js";
import type { TracedRun } from "./traced-run.js";
import { cachedBalance } from "./wallet-balance.js";
import { WatchedRun } from "./watched-run.js";

/** A runtime's telemetry: the runner's observer, and the trace begun at intake. */
export interface PayoutTelemetry {
  /** Plugged into the runners (see RunObserver): the only place telemetry sees a payout move. */
  readonly observer: RunObserver<PayoutSnapshot>;
  /** Begins a payout's trace where it is taken in: `pay()` or `enqueue()`. Never throws. */
  intake(kind: "pay" | "enqueue"): IntakeTrace;
  /** `pay()` is done waiting for this payout (see PayoutTracing.intakeDone). */
  intakeDone(key: string): void;
  /** Records now what waits for its batch (see DeferredWork). */
  flush(): void;
  close(): void;
}

/** What telemetry reads besides the payouts: the network, and the wallet's account. */
export interface TelemetryDeps {
  network: string;
  account: () => Promise<{ balance: string }>;
  /** Where `@opentelemetry/api` is loaded from (tests). */
  resolveApi?: OtelResolver;
}

/**
 * How long a record may wait for its batch: long enough to gather a busy runtime's steps,
 * short next to a span processor's own batching (the SDK's default export delay is 5 s).
 */
const RECORD_DELAY_MS = 200;
/** How many records a batch holds at most (a payout makes about twenty): bounds the memory. */
const RECORD_BATCH = 1000;

const UNTRACED: IntakeTrace = { traceparent: undefined, settle: () => {}, fail: () => {} };

/**
 * The runtime's telemetry, or undefined when it is off (`telemetry: false`), cannot be (the
 * API is not installed) or would record nothing (no SDK registered, no provider given): the
 * runner then has no observer, and pays nothing for it. Traces and metrics are each made
 * only when their SDK is there.
 */
export function createPayoutTelemetry(
  settings: TelemetrySettings | undefined,
  deps: TelemetryDeps,
): PayoutTelemetry | undefined {
  if (settings === false) return undefined;
  const api = loadOtel(deps.resolveApi);
  if (!api) return undefined;
  const given: Exclude<TelemetrySettings, false> = settings ?? { balanceMaxAgeMs: 30_000 };
  const sdk = registeredSdk(api, given);
  if (!sdk.traces && !sdk.metrics) return undefined;
  // What only records is done in batches (DeferredWork).
  const work = new DeferredWork(RECORD_DELAY_MS, RECORD_BATCH);
  const tracing = sdk.traces
    ? createPayoutTracing(
        api,
        given.tracerProvider as TracerProvider | undefined,
        deps.network,
        work,
      )
    : undefined;
  const metrics = sdk.metrics
    ? createPayoutMetrics(api, given.meterProvider as MeterProvider | undefined, {
        network: deps.network,
        balance: cachedBalance(deps.account, {
          maxAgeMs: given.balanceMaxAgeMs,
          timeoutMs: 5_000,
        }),
        work,
      })
    : undefined;

  const observer: RunObserver<PayoutSnapshot> = {
    started(record) {
      // Each part fenced on its own: a bug here must never stop a payout.
      let traced: TracedRun | undefined;
      let active: ActiveRun | undefined;
      try {
        traced = tracing?.startRun(record);
      } catch {
        // This run untraced.
      }
      try {
        active = metrics?.startRun(record.state);
      } catch {
        // This run uncounted.
      }
      // Nothing to watch (an unsampled payout, no metrics): the run costs nothing more.
      return traced || active ? new WatchedRun(traced, metrics, active, work) : undefined;
    },
  };

  return {
    observer,
    intake(kind) {
      if (!tracing) return UNTRACED;
      try {
        return tracing.intake(kind);
      } catch {
        return UNTRACED;
      }
    },
    intakeDone(key) {
      try {
        tracing?.intakeDone(key);
      } catch {
        // This payout's first span lost.
      }
    },
    flush: () => work.flush(),
    close() {
      try {
        tracing?.close();
      } catch {
        // The spans of payouts never driven here are lost.
      }
      work.close();
    },
  };
}
