import type { OtelApi } from "./load-otel.js";

/**
 * Whether a host registered an SDK for traces or metrics, read once when the runtime is made.
 * With neither, the runtime gets no observer at all and pays nothing per payout (the API's
 * no-ops are cheap, not free: a payout runs some twenty hooks). The price is that an SDK
 * must be registered before `createPayouts()`, which metrics need anyway (the API has no
 * proxy for meters), and which every SDK's getting-started guide does first.
 *
 * The API exposes no "is a provider registered" call; its no-op providers are recognised by
 * their class names (the API ships unminified, and these names are part of its source since
 * 1.0). A provider the host passes in `telemetry` is always taken as real.
 */
export function registeredSdk(
  api: OtelApi,
  given: { tracerProvider?: unknown; meterProvider?: unknown },
): { traces: boolean; metrics: boolean } {
  const tracerProvider = api.trace.getTracerProvider() as { getDelegate?: () => unknown };
  const tracerDelegate =
    typeof tracerProvider.getDelegate === "function"
      ? tracerProvider.getDelegate()
      : tracerProvider;
  return {
    traces: given.tracerProvider !== undefined || !isNoop(tracerDelegate, "NoopTracerProvider"),
    metrics:
      given.meterProvider !== undefined ||
      !isNoop(api.metrics.getMeterProvider(), "NoopMeterProvider"),
  };
}

function isNoop(provider: unknown, className: string): boolean {
  return (
    (provider as { constructor?: { name?: string } } | undefined)?.constructor?.name === className
  );
}
