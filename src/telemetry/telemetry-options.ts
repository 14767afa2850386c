import { z } from "zod";

/**
 * A tracer provider as pi-payments calls it: any `TracerProvider` of `@opentelemetry/api`
 * (an SDK's `BasicTracerProvider`, `NodeTracerProvider`). Typed structurally so that the
 * library's types do not need the API installed.
 */
export interface TracerProviderLike {
  /** The tracer pi-payments records its spans with (scope `pi-payments`). */
  getTracer(name: string, version?: string): unknown;
}

/** A meter provider as pi-payments calls it: any `MeterProvider` (the SDK's `MeterProvider`). */
export interface MeterProviderLike {
  /** The meter pi-payments records its metrics with (scope `pi-payments`). */
  getMeter(name: string, version?: string): unknown;
}

const withMethod = <T>(method: string, what: string) =>
  z.custom<T>(
    (v) =>
      typeof v === "object" &&
      v !== null &&
      typeof (v as Record<string, unknown>)[method] === "function",
    `must be ${what} (an object with ${method}())`,
  );

/**
 * The `telemetry` option of `createPayouts`: `false` turns it off; otherwise it records
 * through the providers given, or the ones registered globally with `@opentelemetry/api`
 * (nothing is recorded until the host registers an SDK, or if the API is not installed).
 */
export const telemetryOptionSchema = z.union([
  z.literal(false),
  z.strictObject({
    /** @default the global tracer provider (`trace.setGlobalTracerProvider`, an SDK's `register()`) */
    tracerProvider: withMethod<TracerProviderLike>("getTracer", "a TracerProvider").optional(),
    /**
     * The API has no proxy for meters: a global meter provider must be registered before
     * `createPayouts()`, or passed here. @default the global meter provider
     */
    meterProvider: withMethod<MeterProviderLike>("getMeter", "a MeterProvider").optional(),
    /** How long a wallet balance reading serves the balance gauge, in ms. @default 30000 */
    balanceMaxAgeMs: z.number().int().min(0).default(30_000),
  }),
]);

/** The `telemetry` option of `createPayouts`. */
export type TelemetryOptions = z.input<typeof telemetryOptionSchema>;

/** The option once checked. */
export type TelemetrySettings = z.output<typeof telemetryOptionSchema>;
