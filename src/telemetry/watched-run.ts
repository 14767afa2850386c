import type { PendingInvoke } from "../machines/xstate-adapter.js";
import type { MachineEvent } from "../runtime/durable-machine.js";
import type { RunEnd, RunWatch, SavedStep } from "../runtime/runner-types.js";
import type { DeferredWork } from "./deferred-work.js";
import { type EffectFacts, effectFacts } from "./effect-facts.js";
import type { EffectSpan } from "./effect-span.js";
import type { ActiveRun, PayoutMetrics } from "./payout-metrics.js";
import type { TracedRun } from "./traced-run.js";

/**
 * One run of a payout as telemetry watches it: its trace (when sampled) and its figures.
 *
 * Live, around each step, only what must be: the clock, and the effect's span standing in
 * the context (made when first needed: see EffectSpan). What only records (spans made and
 * ended, attributes, metric records) is queued on `work` with the times things happened, and
 * done in batches of many payouts.
 *
 * Every method is fenced: telemetry lost for a step never stops the payout, and an effect
 * runs exactly once whatever the SDK throws.
 */
export class WatchedRun implements RunWatch {
  /**
   * The invoke id of the effect whose result the next save may be: that save is told by the
   * effect's own span, not by an event on the payout's (see `saved`).
   */
  private resultOf: string | undefined;

  constructor(
    private readonly traced: TracedRun | undefined,
    private readonly metrics: PayoutMetrics | undefined,
    private readonly active: ActiveRun | undefined,
    private readonly work: DeferredWork,
  ) {}

  effect(effect: PendingInvoke, run: () => Promise<MachineEvent>): Promise<MachineEvent> {
    const begun = performance.now();
    const traced = this.traced;
    let span: EffectSpan | undefined;
    let running: Promise<MachineEvent> | undefined;
    if (traced) {
      try {
        span = traced.beginEffect(effect.src, begun);
      } catch {
        // The effect runs untraced.
      }
    }
    if (span && traced?.propagates) {
      // The effect starts at most once, whatever the context manager does with the function
      // (calls it and throws, returns something else, never calls it): what it started is
      // what runOnce kept, not what `within` returns.
      const runOnce = () => {
        running ??= run();
        return running;
      };
      try {
        traced.within(span, runOnce);
      } catch {
        // The effect runs without its span active (below), unless it already started; the
        // span is still recorded with the effect's result.
      }
    }
    // Kept in `running` too: a manager that calls runOnce late (after with() returned, say
    // at its next with()) must find the effect started, not start it again.
    running ??= run();
    const result = running;
    const { id, src } = effect;
    return result.then((event) => this.effectEnded(id, src, span, begun, event));
  }

  saved(step: SavedStep): void {
    try {
      const { payout } = step;
      if (this.active) this.metrics?.saved(this.active, payout);
      const traced = this.traced;
      if (!traced) return;
      traced.noteSaved(payout);
      // The save of an effect's result is told by the effect's span (its result and its
      // end); any other step (a person's command, a takeover, a refused hook) by an event.
      const resultOf = this.resultOf;
      this.resultOf = undefined;
      // `<invoke id>.done` or `.error` (eventName): no command is named so.
      if (
        resultOf !== undefined &&
        step.event.startsWith(resultOf) &&
        step.event.charCodeAt(resultOf.length) === 46 // "."
      ) {
        return;
      }
      queueStep(this.work, traced, step.event, step.to, performance.now());
    } catch {
      // Telemetry lost for this step; the payout goes on.
    }
  }

  ended(end: RunEnd | undefined): void {
    try {
      if (this.active) this.metrics?.ended(this.active);
      this.traced?.end(end, performance.now());
    } catch {
      // This run's span lost.
    }
  }

  /**
   * An effect's result came: its facts are read now (a few codes and ids), so that what the
   * batch waits with is small and the result itself (a payment, an envelope) dies young.
   */
  private effectEnded(
    id: string,
    src: string,
    span: EffectSpan | undefined,
    begun: number,
    event: MachineEvent,
  ): MachineEvent {
    const at = performance.now();
    this.resultOf = id;
    let facts: EffectFacts | undefined;
    try {
      facts = effectFacts(event);
    } catch {
      // Read nothing: the span ends bare and no figure is recorded.
    }
    queueEffect(this.work, this, src, span, begun, at, facts);
    return event;
  }

  /** An effect's span and figures (in a batch). Each part fenced on its own. */
  recordEffect(
    src: string,
    span: EffectSpan | undefined,
    begun: number,
    at: number,
    facts: EffectFacts | undefined,
  ): void {
    if (span && this.traced) {
      try {
        this.traced.recordEffect(span, at, facts);
      } catch {
        // This effect's span lost (it is ended if it was ever made: see recordEffect).
      }
    }
    if (this.metrics && facts) this.metrics.effectEnded(src, facts, (at - begun) / 1000);
  }
}

// The tasks are made here, in scopes that hold only what they need: a closure keeps its whole
// scope alive, and a task waits for its batch (up to 200 ms), long enough to be copied by
// the garbage collector if it held a step's payout or an effect's input.

function queueEffect(
  work: DeferredWork,
  run: WatchedRun,
  src: string,
  span: EffectSpan | undefined,
  begun: number,
  at: number,
  facts: EffectFacts | undefined,
): void {
  work.later(() => run.recordEffect(src, span, begun, at, facts));
}

function queueStep(
  work: DeferredWork,
  traced: TracedRun,
  event: string,
  to: string,
  at: number,
): void {
  work.later(() => traced.recordStep(event, to, at));
}
