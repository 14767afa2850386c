import type {
  Exception,
  Link,
  Span,
  SpanAttributes,
  SpanAttributeValue,
  SpanContext,
  SpanStatus,
  TimeInput,
} from "@opentelemetry/api";

/**
 * An effect's span, made by the SDK when it is first needed: by whatever reads it while the
 * effect runs (the host's HTTP or SQL instrumentation starting a child span reads its
 * context), or else when the effect's result is recorded, in a batch (see DeferredWork).
 * Either way the SDK's span is the same: same name, parent and attributes, and the start
 * time the effect really started at (given explicitly). A span nothing nests in (no
 * instrumentation, or no context manager to carry it) thus costs no SDK work in the middle
 * of a payout's step; one something nests in costs what a live span costs.
 *
 * It stands in the context (`trace.setSpan`) while the effect runs; every method of the
 * API's `Span` makes the real span first and goes to it. The only difference a span
 * processor may see: `onStart` is called when the span is made, after its start time.
 */
export class EffectSpan implements Span {
  private span: Span | undefined;

  /** Recorded (ended, or left out): a read after that gets a span that records nothing. */
  private finished = false;

  constructor(
    /**
     * Makes the SDK's span of an effect, never throwing (TracedRun): a span processor's bug
     * must not reach the host's code that read the span inside the effect.
     */
    private readonly maker: { makeEffectSpan(effect: EffectSpan): Span; nonRecording(): Span },
    /** The effect, by its declared name (`submitTransaction`). */
    readonly src: string,
    /** When the effect started (`performance.now()`). */
    readonly startTime: number,
    /** The payout's state and ids when the effect started (the snapshot it runs from). */
    readonly state: string,
    readonly paymentId: string | undefined,
    readonly txHash: string | undefined,
  ) {}

  /** Whether the SDK's span was made (something read it while the effect ran, or it was recorded). */
  get made(): boolean {
    return this.span !== undefined;
  }

  /**
   * The SDK's span: made now if nothing made it yet. Once the effect is recorded, a span
   * never made stays unmade: what reads the context late gets one that records nothing.
   */
  real(): Span {
    if (this.span) return this.span;
    if (this.finished) return this.maker.nonRecording();
    this.span = this.maker.makeEffectSpan(this);
    return this.span;
  }

  /** The effect is recorded: no SDK span is made for it from now on. */
  finish(): void {
    this.finished = true;
  }

  spanContext(): SpanContext {
    return this.real().spanContext();
  }
  setAttribute(key: string, value: SpanAttributeValue): this {
    this.real().setAttribute(key, value);
    return this;
  }
  setAttributes(attributes: SpanAttributes): this {
    this.real().setAttributes(attributes);
    return this;
  }
  addEvent(
    name: string,
    attributesOrStartTime?: SpanAttributes | TimeInput,
    startTime?: TimeInput,
  ): this {
    this.real().addEvent(name, attributesOrStartTime, startTime);
    return this;
  }
  addLink(link: Link): this {
    this.real().addLink(link);
    return this;
  }
  addLinks(links: Link[]): this {
    this.real().addLinks(links);
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.real().setStatus(status);
    return this;
  }
  updateName(name: string): this {
    this.real().updateName(name);
    return this;
  }
  end(endTime?: TimeInput): void {
    this.real().end(endTime);
  }
  isRecording(): boolean {
    return this.real().isRecording();
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.real().recordException(exception, time);
  }
}
