import type { Context, Span, Tracer, TracerProvider } from "@opentelemetry/api";
import type { MachineEvent } from "../runtime/durable-machine.js";
import type { RunEnd } from "../runtime/runner-types.js";
import type { StoredPayout } from "../storage/types.js";
import type { DeferredWork } from "./deferred-work.js";
import type { EffectFacts } from "./effect-facts.js";
import { EffectSpan } from "./effect-span.js";
import type { OtelApi } from "./load-otel.js";
import {
  ATTR,
  ENQUEUE_SPAN,
  effectSpanName,
  INSTRUMENTATION_SCOPE,
  PAYOUT_SPAN,
} from "./telemetry-names.js";
import { formatTraceparent, parseTraceparent } from "./traceparent.js";

/** The key of PayoutTracer's probe context. */
const PROBE_KEY = Symbol.for("pi-payments.telemetry.context-probe");

/** The effect that waits for Pi's one-incomplete-payment slot (see recordEffect). */
const SLOT_EFFECT = "acquireSlot";

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

class PayoutTracer implements PayoutTracing {
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
    return this.api.context.with(this.probe, this.probeIsActive);
  }

  private readonly probeIsActive = () => this.api.context.active() === this.probe;

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
    queueUntaken(this.deps.work, this.deps.network, key, waiting.span, performance.now());
  }

  close(): void {
    this.closed = true;
    const at = performance.now();
    for (const [key, { span }] of this.taken) {
      queueUntaken(this.deps.work, this.deps.network, key, span, at);
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
    // Its attributes (the network too) are set when it ends, in a batch: starting a span is
    // the one SDK call a payout makes in the middle of a step.
    this.span = tracer.tracer.startSpan(kind === "pay" ? PAYOUT_SPAN : ENQUEUE_SPAN, {}, parent);
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
      const { network } = tracer.deps;
      tracer.deps.work.later(() => {
        span.setAttribute(ATTR.network, network);
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
      this.span.setAttribute(ATTR.network, this.tracer.deps.network);
      this.span.setAttribute(ATTR.errorType, typeof code === "string" ? code : "UNEXPECTED_ERROR");
      this.span.setStatus({ code: this.tracer.api.SpanStatusCode.ERROR });
      this.span.end();
    } catch {
      // Nothing more to lose.
    }
  }
}

/**
 * One run of a payout, traced: its span, the context its effects run in, and what the span
 * will show. An effect's span stands in the context while it runs and is made when first
 * needed (EffectSpan); what only records is called in batches, with the times things happened.
 */
export class TracedRun {
  /**
   * The state and ids as of the last save (or the run's start). Set on the span once, when
   * it ends (exporters read a span when it ends); an effect's span takes those it started from.
   */
  state: string;
  detail: string;
  paymentId: string | undefined;
  txHash: string | undefined;

  private readonly key: string;
  /** The run's span active in its parent context: made when first needed (effects' parent). */
  private made: Context | undefined;

  constructor(
    private readonly tracer: PayoutTracer,
    record: StoredPayout,
    private readonly span: Span,
    /** The context the run's span was started in (its parent's). */
    private readonly parent: Context,
    /** A context manager carries contexts (PayoutTracer.propagates): `within` is worth it. */
    readonly propagates: boolean,
  ) {
    this.key = record.key;
    this.state = record.state;
    this.detail = record.stateDetail;
    this.paymentId = record.paymentId ?? undefined;
    this.txHash = record.txid ?? undefined;
  }

  /** The context effects run in: the run's span active (made once, when first needed). */
  private get context(): Context {
    this.made ??= this.tracer.api.trace.setSpan(this.parent, this.span);
    return this.made;
  }

  /** An effect starts at `startTime` (`performance.now()`): its span, made when first needed. */
  beginEffect(src: string, startTime: number): EffectSpan {
    return new EffectSpan(this, src, startTime, this.state, this.paymentId, this.txHash);
  }

  /**
   * The SDK's span of an effect: a child of the payout's, started when the effect started.
   * It may be made by the host's code inside the effect (EffectSpan), so it never throws: a
   * tracer or span processor that does gives a span that records nothing.
   */
  makeEffectSpan(effect: EffectSpan): Span {
    try {
      return this.tracer.tracer.startSpan(
        effectSpanName(effect.src),
        { attributes: { [ATTR.step]: effect.src }, startTime: effect.startTime },
        this.context,
      );
    } catch {
      return this.nonRecording();
    }
  }

  /** A span that records nothing (the API's invalid span context). */
  nonRecording(): Span {
    return this.tracer.api.trace.wrapSpanContext(this.tracer.api.INVALID_SPAN_CONTEXT);
  }

  /** Runs an effect with its span active, so that the host's own spans (HTTP) nest in it. */
  within(span: EffectSpan, perform: () => Promise<MachineEvent>): Promise<MachineEvent> {
    const { api } = this.tracer;
    return api.context.with(api.trace.setSpan(this.context, span), perform);
  }

  /**
   * Records an effect that ended at `at` (`performance.now()`): the state and ids it started
   * from, what its result says, and its end. A slot found free at once (`acquireSlot` under
   * a millisecond, its span never made) is not a span: a wait that did not happen says
   * nothing the payout's span does not (its duration still goes to the step metric).
   */
  recordEffect(effect: EffectSpan, at: number, facts: EffectFacts | undefined): void {
    const freeSlot = effect.src === SLOT_EFFECT && !effect.made && at - effect.startTime < 1;
    const span = freeSlot ? undefined : effect.real();
    effect.finish();
    if (!span) return;
    try {
      span.setAttribute(ATTR.state, effect.state);
      // The ids it learnt win over those it had.
      const paymentId = facts?.paymentId || effect.paymentId;
      const txHash = facts?.txHash || effect.txHash;
      if (paymentId) span.setAttribute(ATTR.paymentId, paymentId);
      if (txHash) span.setAttribute(ATTR.txHash, txHash);
      if (facts) this.annotate(span, facts);
    } finally {
      span.end(at);
    }
  }

  /** Notes the state and ids a save left the payout in (no SDK call: see `state`). */
  noteSaved(payout: StoredPayout): void {
    this.state = payout.state;
    this.detail = payout.stateDetail;
    if (payout.paymentId !== null) this.paymentId = payout.paymentId;
    if (payout.txid !== null) this.txHash = payout.txid;
  }

  /** A step that no effect's span tells (a command, a takeover, a refused hook), as an event. */
  recordStep(event: string, to: string, at: number): void {
    this.span.addEvent(event, { [ATTR.stateDetail]: to }, at);
  }

  /**
   * The run ended at `at`: the payout's span ends (in a batch) with what it shows and how
   * the run ended, read now so that the batch keeps a few strings, not the stored payout.
   */
  end(end: RunEnd | undefined, at: number): void {
    // A newer run of the payout may have started (a runner counts as gone once its loop is
    // over, before it tells its end): only this run's entry goes.
    if (this.tracer.running.get(this.key) === this) this.tracer.running.delete(this.key);
    let ended: RunSummary;
    if (!end) ended = { stopped: "crashed" };
    else if (end.status === "stopped") ended = { stopped: end.reason };
    else {
      const { state, snapshot } = end.payout;
      const failure = state === "failed" ? snapshot.context.failure?.code : undefined;
      ended = failure === undefined ? { outcome: state } : { outcome: state, failure };
    }
    queueEnd(this.tracer.deps.work, this, ended, at);
  }

  /** Ends the payout's span (see `end`). */
  recordEnd(ended: RunSummary, at: number): void {
    const { span } = this;
    const { api } = this.tracer;
    try {
      span.setAttribute(ATTR.network, this.tracer.deps.network);
      span.setAttribute(ATTR.payoutKey, this.key);
      span.setAttribute(ATTR.state, this.state);
      span.setAttribute(ATTR.stateDetail, this.detail);
      if (this.paymentId !== undefined) span.setAttribute(ATTR.paymentId, this.paymentId);
      if (this.txHash !== undefined) span.setAttribute(ATTR.txHash, this.txHash);
      if (ended.outcome !== undefined) span.setAttribute(ATTR.outcome, ended.outcome);
      if (ended.stopped !== undefined) span.setAttribute(ATTR.stopped, ended.stopped);
      if (ended.stopped === "crashed") span.setStatus({ code: api.SpanStatusCode.ERROR });
      if (ended.failure !== undefined) {
        span.setAttribute(ATTR.errorType, ended.failure);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: ended.failure });
      }
    } finally {
      span.end(at);
    }
  }

  /** What an effect's result says, beyond its ids. */
  private annotate(span: Span, facts: EffectFacts): void {
    if (facts.result) span.setAttribute(ATTR.result, facts.result);
    if (facts.horizon) {
      span.setAttribute(ATTR.horizonResultCode, facts.horizon.transaction);
      if (facts.horizon.operation)
        span.setAttribute(ATTR.horizonOperationCode, facts.horizon.operation);
    }
    if (facts.errorType) {
      span.setAttribute(ATTR.errorType, facts.errorType);
      span.setStatus({ code: this.tracer.api.SpanStatusCode.ERROR, message: facts.errorType });
    }
  }
}

/** How a run ended, as its span tells it: at rest (its outcome, a failure's code) or stopped. */
interface RunSummary {
  outcome?: string;
  failure?: string;
  stopped?: string;
}

/** The span of a payout taken in by `pay()` that no runner here took: it ends as it was. */
function queueUntaken(
  work: DeferredWork,
  network: string,
  key: string,
  span: Span,
  at: number,
): void {
  work.later(() => {
    span.setAttribute(ATTR.network, network);
    span.setAttribute(ATTR.payoutKey, key);
    span.end(at);
  });
}

/** Made here so that the task holds only its arguments (see queueEffect in watched-run.ts). */
function queueEnd(work: DeferredWork, run: TracedRun, ended: RunSummary, at: number): void {
  work.later(() => run.recordEnd(ended, at));
}
