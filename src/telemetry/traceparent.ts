/**
 * A span's identity as a W3C Trace Context `traceparent` header value
 * (https://www.w3.org/TR/trace-context/#traceparent-header), the form a payout keeps it in:
 * a plain string survives JSON, every store and any process, and any tracer reads it.
 * Written here rather than taken from an SDK's propagator: the library uses the API only.
 */
export interface TraceIdentity {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** W3C trace flags; bit 0 is "sampled". */
  traceFlags: number;
}

const pattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const zeros = /^0+$/;

/** The `traceparent` of a span (version 00). */
export function formatTraceparent(identity: TraceIdentity): string {
  const flags = (identity.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${identity.traceId}-${identity.spanId}-${flags}`;
}

/**
 * The span a `traceparent` names, or undefined for anything that is not a valid version-00
 * value (a stored row edited by hand must not break a payout, only its trace).
 */
export function parseTraceparent(value: unknown): TraceIdentity | undefined {
  if (typeof value !== "string") return undefined;
  const match = pattern.exec(value);
  if (!match) return undefined;
  const [, traceId = "", spanId = "", flags = "00"] = match;
  if (zeros.test(traceId) || zeros.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: Number.parseInt(flags, 16) };
}
