import type { Attributes, Context, Span, Tracer, TracerProvider } from "@opentelemetry/api";
import { describeState, type PayoutSnapshot } from "../machines/step.js";
import type { PendingInvoke } from "../machines/xstate-adapter.js";
import type { MachineEvent } from "../runtime/durable-machine.js";
import type { RunEnd, SavedStep } from "../runtime/runner-types.js";
import type { StoredPayout } from "../storage/types.js";
import { type EffectFacts, payoutIds } from "./effect-facts.js";
import type { OtelApi } from "./load-otel.js";
import {
  ATTR,
  ENQUEUE_SPAN,
  effectSpanName,
  INSTRUMENTATION_SCOPE,
  PAYOUT_SPAN,
} from "./telemetry-names.js";
import { formatTraceparent, parseTraceparent } from "./traceparent.js";

/** A span begun at intake, before the store said whether the key was new. */
export interface IntakeTrace {
  /** To store with the payout; undefined when no trace is being recorded or propagated. */
  traceparent: string | undefined;
  /** The store took it in (`created`) or had it already; `pay()` hands a new one to its run. */
  settle(result: { created: boolean; payout: StoredPayout }): void;
  /** Intake refused it (bad arguments, a reused key). */
  fail(error: unknown): void;
}

/** The spans of this runtime's payouts. Secrets never reach them: only ids, states and codes. */
export interface PayoutTracing {
  intake(kind: "pay" | "enqueue"): IntakeTrace;
  started(record: StoredPayout, snapshot: PayoutSnapshot): void;
  /**
   * Begins an effect's span, a child of its payout's, with the state and ids that span shows
   * (set at each save); undefined when the payout's span records nothing (not sampled).
   */
  beginEffect(key: string, effect: PendingInvoke): Span | undefined;
  /** Runs the effect with its span active, so that the host's own spans (HTTP) nest in it. */
  runEffect(key: string, span: Span, run: () => Promise<MachineEvent>): Promise<MachineEvent>;
  /** Ends an effect's span with what its result says. */
  endEffect(span: Span, facts: EffectFacts): void;
  saved(step: SavedStep): void;
  ended(key: string, end: RunEnd | undefined): void;
  /** Ends the spans of payouts taken in but never driven here (the runtime closed first). */
  close(): void;
}

interface Shown {
  state?: string;
  detail?: string;
  paymentId?: string;
  txHash?: string;
}

interface Run {
  span: Span;
  /** The context effects run in: the run's span active, so the host's HTTP spans nest too. */
  context: Context;
  /**
   * What the span shows now, as of the last save (or the run's start): a step sets only what
   * changed, and an effect's span copies the state and ids from here (an effect starts from
   * the snapshot last saved) instead of reading the snapshot again.
   */
  shown: Shown;
}

/**
 * Tracing through the API only. A payout's trace is begun where it is taken in (`pay()`,
 * `enqueue()`), as a child of the caller's active span, and its `traceparent` is stored with
 * it: every later run (a worker, a resume after a crash, another process) starts its payout
 * span as a child of that stored span, so one trace holds the payout's whole life.
 */
export function createPayoutTracing(
  api: OtelApi,
  provider: TracerProvider | undefined,
  network: string,
): PayoutTracing {
  const tracer: Tracer = (provider ?? api.trace).getTracer(INSTRUMENTATION_SCOPE);
  const runs = new Map<string, Run>();
  /** Spans begun by `pay()` for new payouts, waiting for the runner that drives them here. */
  const taken = new Map<string, Run>();

  const start = (name: string, parent: Context, attributes: Attributes): Run => {
    const span = tracer.startSpan(name, { attributes }, parent);
    return { span, context: api.trace.setSpan(parent, span), shown: {} };
  };

  const parentOf = (record: StoredPayout): { parent: Context; linkTo?: Context } => {
    const active = api.context.active();
    const stored = parseTraceparent(record.snapshot.context.traceparent);
    if (!stored) return { parent: active };
    const parent = api.trace.setSpanContext(api.ROOT_CONTEXT, { ...stored, isRemote: true });
    // Whoever asked now (a cancel inside a request's span) is linked, the payout's trace kept.
    return api.trace.getSpan(active) ? { parent, linkTo: active } : { parent };
  };

  /**
   * Sets on the run's span the state and ids that differ from those it shows: a step sets
   * only what changed (each setAttribute is a call into the SDK). Four fields written out,
   * not a loop over an object built per step: this runs on every save.
   */
  const show = (
    run: Run,
    state: string,
    detail: string,
    paymentId: string | null,
    txHash: string | null,
  ) => {
    const { shown, span } = run;
    if (shown.state !== state) {
      shown.state = state;
      span.setAttribute(ATTR.state, state);
    }
    if (shown.detail !== detail) {
      shown.detail = detail;
      span.setAttribute(ATTR.stateDetail, detail);
    }
    if (paymentId !== null && shown.paymentId !== paymentId) {
      shown.paymentId = paymentId;
      span.setAttribute(ATTR.paymentId, paymentId);
    }
    if (txHash !== null && shown.txHash !== txHash) {
      shown.txHash = txHash;
      span.setAttribute(ATTR.txHash, txHash);
    }
  };

  const annotate = (span: Span, facts: EffectFacts) => {
    if (facts.paymentId) span.setAttribute(ATTR.paymentId, facts.paymentId);
    if (facts.txHash) span.setAttribute(ATTR.txHash, facts.txHash);
    if (facts.result) span.setAttribute(ATTR.result, facts.result);
    if (facts.horizon) {
      span.setAttribute(ATTR.horizonResultCode, facts.horizon.transaction);
      if (facts.horizon.operation)
        span.setAttribute(ATTR.horizonOperationCode, facts.horizon.operation);
    }
    if (facts.errorType) {
      span.setAttribute(ATTR.errorType, facts.errorType);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: facts.errorType });
    }
  };

  return {
    intake(kind) {
      const run = start(kind === "pay" ? PAYOUT_SPAN : ENQUEUE_SPAN, api.context.active(), {
        [ATTR.network]: network,
      });
      const identity = run.span.spanContext();
      return {
        traceparent: api.trace.isSpanContextValid(identity)
          ? formatTraceparent(identity)
          : undefined,
        settle({ created, payout }) {
          run.span.setAttributes({
            [ATTR.payoutKey]: payout.key,
            [ATTR.state]: payout.state,
            ...(created ? {} : { [ATTR.existing]: true }),
          });
          if (kind === "pay" && created) taken.set(payout.key, run);
          else run.span.end();
        },
        fail(error) {
          const code = (error as { code?: unknown } | undefined)?.code;
          run.span.setAttribute(
            ATTR.errorType,
            typeof code === "string" ? code : "UNEXPECTED_ERROR",
          );
          run.span.setStatus({ code: api.SpanStatusCode.ERROR });
          run.span.end();
        },
      };
    },

    started(record, snapshot) {
      const key = record.key;
      let run = taken.get(key);
      taken.delete(key);
      if (!run) {
        const { parent, linkTo } = parentOf(record);
        const attributes = { [ATTR.payoutKey]: key, [ATTR.network]: network, [ATTR.resumed]: true };
        const linked = linkTo ? api.trace.getSpan(linkTo)?.spanContext() : undefined;
        const span = tracer.startSpan(
          PAYOUT_SPAN,
          { attributes, ...(linked ? { links: [{ context: linked }] } : {}) },
          parent,
        );
        run = { span, context: api.trace.setSpan(parent, span), shown: {} };
      }
      if (run.span.isRecording()) {
        const { state, detail } = describeState(snapshot);
        const { paymentId, txHash } = payoutIds(snapshot);
        show(run, state, detail, paymentId, txHash);
      }
      runs.set(key, run);
    },

    beginEffect(key, effect) {
      const run = runs.get(key);
      // Not sampled (or no SDK): no child spans either, and no attribute work.
      if (!run?.span.isRecording()) return undefined;
      const { shown } = run;
      const attributes: Attributes = { [ATTR.step]: effect.src };
      if (shown.state !== undefined) attributes[ATTR.state] = shown.state;
      if (shown.paymentId !== undefined) attributes[ATTR.paymentId] = shown.paymentId;
      if (shown.txHash !== undefined) attributes[ATTR.txHash] = shown.txHash;
      return tracer.startSpan(effectSpanName(effect.src), { attributes }, run.context);
    },

    runEffect(key, span, perform) {
      const parent = runs.get(key)?.context ?? api.context.active();
      return api.context.with(api.trace.setSpan(parent, span), perform);
    },

    endEffect(span, facts) {
      try {
        annotate(span, facts);
      } finally {
        span.end();
      }
    },

    saved(step) {
      const run = runs.get(step.key);
      if (!run?.span.isRecording()) return;
      const { payout } = step;
      show(run, payout.state, payout.stateDetail, payout.paymentId, payout.txid);
      // The journal line, as a span event: the step's name and where it led.
      run.span.addEvent(step.event, { [ATTR.stateDetail]: step.to });
    },

    ended(key, end) {
      const run = runs.get(key);
      runs.delete(key);
      if (!run) return;
      const { span } = run;
      if (!end) {
        span.setAttribute(ATTR.stopped, "crashed");
        span.setStatus({ code: api.SpanStatusCode.ERROR });
      } else if (end.status === "stopped") {
        span.setAttribute(ATTR.stopped, end.reason);
      } else {
        const { state, snapshot } = end.payout;
        span.setAttribute(ATTR.outcome, state);
        const failure = snapshot.context.failure;
        if (state === "failed" && failure) {
          span.setAttribute(ATTR.errorType, failure.code);
          span.setStatus({ code: api.SpanStatusCode.ERROR, message: failure.code });
        }
      }
      span.end();
    },

    close() {
      for (const run of taken.values()) run.span.end();
      taken.clear();
    },
  };
}
