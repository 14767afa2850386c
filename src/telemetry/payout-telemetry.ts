import type { MeterProvider, Span, TracerProvider } from "@opentelemetry/api";
import type { PayoutSnapshot } from "../machines/step.js";
import type { MachineEvent } from "../runtime/durable-machine.js";
import type { RunObserver } from "../runtime/runner-types.js";
import { type EffectFacts, effectFacts } from "./effect-facts.js";
import { loadOtel, type OtelResolver } from "./load-otel.js";
import { createPayoutMetrics } from "./payout-metrics.js";
import { createPayoutTracing, type IntakeTrace } from "./payout-tracing.js";
import { registeredSdk } from "./sdk-presence.js";
import type { TelemetrySettings } from "./telemetry-options.js";
import { cachedBalance } from "./wallet-balance.js";

/** A runtime's telemetry: the runner's observer, and the trace begun at intake. */
export interface PayoutTelemetry {
  /** Plugged into the runners (see RunObserver): the only place telemetry sees a payout move. */
  readonly observer: RunObserver<PayoutSnapshot>;
  /** Begins a payout's trace where it is taken in: `pay()` or `enqueue()`. */
  intake(kind: "pay" | "enqueue"): IntakeTrace;
  close(): void;
}

/** What telemetry reads besides the payouts: the network, and the wallet's account. */
export interface TelemetryDeps {
  network: string;
  account: () => Promise<{ balance: string }>;
  /** Where `@opentelemetry/api` is loaded from (tests). */
  resolveApi?: OtelResolver;
}

/** Ends a span, if any, whatever its SDK throws. */
function endQuietly(span: Span | undefined): void {
  try {
    span?.end();
  } catch {
    // Nothing more to lose.
  }
}

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
  const tracing = sdk.traces
    ? createPayoutTracing(api, given.tracerProvider as TracerProvider | undefined, deps.network)
    : undefined;
  const metrics = sdk.metrics
    ? createPayoutMetrics(api, given.meterProvider as MeterProvider | undefined, {
        network: deps.network,
        balance: cachedBalance(deps.account, {
          maxAgeMs: given.balanceMaxAgeMs,
          timeoutMs: 5_000,
        }),
      })
    : undefined;
  // A bug here must never stop a payout: each hook is fenced.
  const guarded =
    <A extends unknown[]>(hook: (...args: A) => void) =>
    (...args: A) => {
      try {
        hook(...args);
      } catch {
        // Telemetry lost for this step; the payout goes on.
      }
    };

  const observer: RunObserver<PayoutSnapshot> = {
    started: guarded((record, snapshot) => {
      tracing?.started(record, snapshot);
      metrics?.started(record, snapshot);
    }),
    effect(key, effect, _snapshot, run) {
      // One continuation per effect for both the span and the metrics, and its facts read
      // once: this runs around every effect of every payout. Each part is fenced on its
      // own, and the effect runs exactly once whatever telemetry throws.
      const begun = metrics ? performance.now() : 0;
      let running: Promise<MachineEvent> | undefined;
      const runOnce = () => {
        running = run();
        return running;
      };
      let span: Span | undefined;
      try {
        span = tracing?.beginEffect(key, effect);
        if (span) running = tracing!.runEffect(key, span, runOnce);
      } catch {
        // A span lost: the effect runs untraced (below), unless it already started.
        endQuietly(span);
        span = undefined;
      }
      const result = running ?? run();
      if (!span && !metrics) return result;
      return result.then((event) => {
        const seconds = (performance.now() - begun) / 1000;
        let facts: EffectFacts | undefined;
        try {
          facts = effectFacts(event);
        } catch {
          // Read nothing: the span ends bare and no figure is recorded.
        }
        if (span && facts) {
          try {
            tracing!.endEffect(span, facts);
          } catch {
            // This effect's span lost.
          }
        } else endQuietly(span);
        if (metrics && facts) {
          try {
            metrics.effectEnded(effect, facts, seconds);
          } catch {
            // This effect's figures lost.
          }
        }
        return event;
      });
    },
    saved: guarded((step) => {
      tracing?.saved(step);
      metrics?.saved(step);
    }),
    ended: guarded((key, end) => {
      tracing?.ended(key, end);
      metrics?.ended(key);
    }),
  };
  const untraced: IntakeTrace = { traceparent: undefined, settle: () => {}, fail: () => {} };

  return {
    observer,
    intake(kind) {
      if (!tracing) return untraced;
      try {
        const trace = tracing.intake(kind);
        return {
          traceparent: trace.traceparent,
          settle: guarded((result) => trace.settle(result)),
          fail: guarded((error) => trace.fail(error)),
        };
      } catch {
        return untraced;
      }
    },
    close: guarded(() => tracing?.close()),
  };
}
