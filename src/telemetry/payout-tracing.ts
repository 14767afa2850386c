import type { Context, Span, Tracer, TracerProvider } from "@opentelemetry/api";
import type { StoredPayout } from "../storage/types.js";
import type { DeferredWork } from "./deferred-work.js";
import type { OtelApi } from "./load-otel.js";
import { ATTR, ENQUEUE_SPAN, INSTRUMENTATION_SCOPE, PAYOUT_SPAN } from "./telemetry-names.js";
import { TracedRun } from "./traced-run.js";
import { formatTraceparent, parseTraceparent } from "./traceparent.js";

/** The key of PayoutTracer's probe context. */
const PROBE_KEY = Symbol.for("pi-payments.telemetry.context-probe");

/** A span begun at intake, before the store said whether the key was new. Never throws. */
export interface IntakeTrace {
  /** To store with the payout; undefined when no trace is being recorded or propagated. */
  readonly traceparent: string | undefined;
  /** The store took it in (`created`) or had it already; `pay()` hands a new one to its run. */
  settle(result: { created: boolean; payout: StoredPayout }): void;
  /** Intake refused it (bad arguments, a reused key). */
  fail(error: unknown): void;
}

/**
 * The spans of this runtime's payouts. Secrets never reach them: only ids, states and codes.
 *
 * A payout's trace is begun where it is taken in (`pay()`, `enqueue()`), as a child of the
 * caller's active span, and its `traceparent` is stored with it: every later run (a worker,
 * a resume after a crash, another process) starts its payout span as a child of that stored
 * span, so one trace holds the payout's whole life.
 */
export interface PayoutTracing {
  intake(kind: "pay" | "enqueue"): IntakeTrace;
  /**
   * A run's tracing: the span `pay()` began for a payout it took in here, or a new span that
   * continues the payout's stored trace; undefined when that span records nothing (not
   * sampled: its effects then get no spans and cost no attribute work).
   */
  startRun(record: StoredPayout): TracedRun | undefined;
  /**
   * `pay()` no longer waits for this payout (it rested, or pay() was refused or aborted): if
   * no runner here took the span it began, that span ends now rather than wait for one.
   */
  intakeDone(key: string): void;
  /** Ends the spans of payouts taken in but never driven here (the runtime closed first). */
  close(): void;
}

/** Through the API only; what only records is handed to `work` (see DeferredWork). */
export function createPayoutTracing(
  api: OtelApi,
  provider: TracerProvider | undefined,
  network: string,
  work: DeferredWork,
): PayoutTracing {
  return new PayoutTracer(api, (provider ?? api.trace).getTracer(INSTRUMENTATION_SCOPE), {
    network,
    work,
  });
}

export class PayoutTracer implements PayoutTracing {
  /** Spans begun by `pay()` for new payouts, waiting for the runner that drives them here. */
  readonly taken = new Map<string, { span: Span; parent: Context }>();
  /** The run going here of each payout: a span `pay()` hands over late is not kept waiting. */
  readonly running = new Map<string, TracedRun>();
  /** After close(): a span `pay()` hands over now is ended, not kept for a runner. */
  closed = false;
  /** A context only a context manager that propagates contexts makes active (see propagates). */
  private readonly probe: Context;

  constructor(
    readonly api: OtelApi,
    readonly tracer: Tracer,
    readonly deps: { network: string; work: DeferredWork },
  ) {
    this.probe = api.ROOT_CONTEXT.setValue(PROBE_KEY, true);
  }

  /**
   * Whether a context manager carries contexts into what a function calls (the host
   * registered one, as every Node SDK's setup does). Without one, nothing can read an effect's
   * span while the effect runs: putting it in a context would be work for nobody. Asked once
   * per run (cheap; a manager registered later is seen by the next run).
   */
  propagates(): boolean {
    // What the probe saw is read from a field, not from with()'s return: a manager may
    // return something else (and still carry contexts). One that throws carries nothing
    // here: the run goes on traced, its effects run outside with() (see WatchedRun.effect).
    this.probeSeen = false;
    try {
      this.api.context.with(this.probe, this.seeProbe);
    } catch {
      return false;
    }
    return this.probeSeen;
  }

  private probeSeen = false;
  private readonly seeProbe = () => {
    this.probeSeen = this.api.context.active() === this.probe;
  };

  intake(kind: "pay" | "enqueue"): IntakeTrace {
    return new IntakeSpan(this, kind);
  }

  startRun(record: StoredPayout): TracedRun | undefined {
    const { api, tracer } = this;
    const key = record.key;
    let run = this.taken.get(key);
    this.taken.delete(key);
    if (!run) {
      const { parent, linkTo } = this.parentOf(record);
      const attributes = {
        [ATTR.payoutKey]: key,
        [ATTR.network]: this.deps.network,
        [ATTR.resumed]: true,
      };
      const linked = linkTo ? api.trace.getSpan(linkTo)?.spanContext() : undefined;
      const span = tracer.startSpan(
        PAYOUT_SPAN,
        { attributes, ...(linked ? { links: [{ context: linked }] } : {}) },
        parent,
      );
      run = { span, parent };
    }
    if (!run.span.isRecording()) return undefined;
    const traced = new TracedRun(this, record, run.span, run.parent, this.propagates());
    this.running.set(key, traced);
    return traced;
  }

  intakeDone(key: string): void {
    const waiting = this.taken.get(key);
    if (!waiting) return;
    this.taken.delete(key);
    queueUntaken(this.deps.work, key, waiting.span, performance.now());
  }

  close(): void {
    this.closed = true;
    const at = performance.now();
    for (const [key, { span }] of this.taken) {
      queueUntaken(this.deps.work, key, span, at);
    }
    this.taken.clear();
  }

  private parentOf(record: StoredPayout): { parent: Context; linkTo?: Context } {
    const { api } = this;
    const active = api.context.active();
    const stored = parseTraceparent(record.snapshot.context.traceparent);
    if (!stored) return { parent: active };
    const parent = api.trace.setSpanContext(api.ROOT_CONTEXT, { ...stored, isRemote: true });
    // Whoever asked now (a cancel inside a request's span) is linked, the payout's trace kept.
    return api.trace.getSpan(active) ? { parent, linkTo: active } : { parent };
  }
}

/** The span `pay()` or `enqueue()` begins: settled once the store answered. */
class IntakeSpan implements IntakeTrace {
  readonly traceparent: string | undefined;
  private readonly span: Span;
  /** The context the payout was taken in: its span's parent. */
  private readonly parent: Context;

  constructor(
    private readonly tracer: PayoutTracer,
    private readonly kind: "pay" | "enqueue",
  ) {
    const { api } = tracer;
    const parent = api.context.active();
    // Started with the network alone, which a sampler may decide on; the rest is set when it
    // ends, in a batch: starting a span is the one SDK call a payout makes in the middle of
    // a step. (A fresh attributes object each time: a sampler may change what it is given.)
    this.span = tracer.tracer.startSpan(
      kind === "pay" ? PAYOUT_SPAN : ENQUEUE_SPAN,
      { attributes: { [ATTR.network]: tracer.deps.network } },
      parent,
    );
    this.parent = parent;
    // A span that is not being recorded nor propagated has the all-zero ids (the API's
    // INVALID_SPAN_CONTEXT); any other is stored, and checked when it is read back
    // (parseTraceparent), where the API's check would run two regular expressions per intake.
    const identity = this.span.spanContext();
    this.traceparent =
      identity.spanId === api.INVALID_SPANID || identity.traceId === api.INVALID_TRACEID
        ? undefined
        : formatTraceparent(identity);
  }

  settle({ created, payout }: { created: boolean; payout: StoredPayout }): void {
    try {
      const { key, state } = payout;
      const { tracer } = this;
      if (this.kind === "pay" && created && !tracer.running.has(key) && !tracer.closed) {
        // The run's span: the runner that drives the payout here sets the rest and ends it
        // (or pay() ends it, if none did: intakeDone).
        tracer.taken.set(key, { span: this.span, parent: this.parent });
        return;
      }
      const at = performance.now();
      const { span } = this;
      tracer.deps.work.later(() => {
        span.setAttribute(ATTR.payoutKey, key);
        span.setAttribute(ATTR.state, state);
        if (!created) span.setAttribute(ATTR.existing, true);
        span.end(at);
      });
    } catch {
      // This trace's first span lost; the payout goes on.
    }
  }

  fail(error: unknown): void {
    try {
      const code = (error as { code?: unknown } | undefined)?.code;
      this.span.setAttribute(ATTR.errorType, typeof code === "string" ? code : "UNEXPECTED_ERROR");
      this.span.setStatus({ code: this.tracer.api.SpanStatusCode.ERROR });
      this.span.end();
    } catch {
      // Nothing more to lose.
    }
  }
}

/** The span of a payout taken in by `pay()` that no runner here took: it ends as it was. */
function queueUntaken(work: DeferredWork, key: string, span: Span, at: number): void {
  work.later(() => {
    span.setAttribute(ATTR.payoutKey, key);
    span.end(at);
  });
}
