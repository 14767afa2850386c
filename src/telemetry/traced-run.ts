import type { Context, Span } from "@opentelemetry/api";
import type { MachineEvent } from "../runtime/durable-machine.js";
import type { RunEnd } from "../runtime/runner-types.js";
import type { StoredPayout } from "../storage/types.js";
import type { DeferredWork } from "./deferred-work.js";
import type { EffectFacts } from "./effect-facts.js";
import { EffectSpan } from "./effect-span.js";
import type { PayoutTracer } from "./payout-tracing.js";
import { ATTR, effectSpanName } from "./telemetry-names.js";

/** The effect that waits for Pi's one-incomplete-payment slot (see recordEffect). */
const SLOT_EFFECT = "acquireSlot";

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

/** Made here so that the task holds only its arguments (see queueEffect in watched-run.ts). */
function queueEnd(work: DeferredWork, run: TracedRun, ended: RunSummary, at: number): void {
  work.later(() => run.recordEnd(ended, at));
}
