// The public shapes of a durable event consumer: its handler, its options, what it returns.
import type { SerializedError } from "../domain/errors.js";
import type { PayoutEvent } from "./payout-event.js";

/** What a handler is given beside the event. */
export interface HandlerContext {
  /**
   * Aborted when this process must stop handling: `stop()` was called, or its lease on the
   * name can no longer be trusted (another process may take over soon). Pass it on to what
   * the handler waits for (a fetch, a query), so that it gives up instead of running on
   * beside the next holder.
   */
  signal: AbortSignal;
  /** 1 for the first call with this event, then 2, 3… after failures. */
  attempt: number;
}

/** A consumer's handler: acknowledged when it resolves, called again with the event when it throws. */
export type EventHandler = (event: PayoutEvent, context: HandlerContext) => unknown;

/** Options of `payouts.events.consume()`. */
export interface ConsumeOptions {
  /** Where a name seen for the first time starts: every event, or only new ones. @default "start" */
  from?: "start" | "now";
  /** Events read per batch; the cursor is written after each batch. @default 100 */
  batchSize?: number;
  /** How often to look for new events when caught up (steps of this process wake it at once). @default 1000 */
  pollMs?: number;
  /**
   * How long the holder's lease on the name lasts without renewal, in ms. Renewed every
   * third of it while the process lives; another process takes the name over once it ends.
   * @default 15000
   */
  leaseMs?: number;
  /** A handler that throws is called again with the same event after this backoff. */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Told of every handler failure (the event is retried, never skipped). */
  onError?: (error: unknown, event: PayoutEvent, attempt: number) => void;
  /** Told when the store fails under the consumer (it retries after `pollMs`). */
  onStoreError?: (error: SerializedError) => void;
  /** Stops the consumer (as `stop()` does). */
  signal?: AbortSignal;
}

/** A running durable consumer. */
export interface EventConsumer {
  readonly name: string;
  /** Whether this process holds the name now (the others stand by). */
  readonly holding: boolean;
  /** The last event acknowledged here (0 before any). */
  readonly cursor: number;
  /** Events handled by this process (redeliveries included). */
  readonly handled: number;
  /** Resolves once the consumer stopped. */
  readonly done: Promise<void>;
  /**
   * Stops: the handler in flight is told (its `signal` aborts) and waited for while the
   * lease can be trusted; if it finishes, its acknowledgement is written and the name is
   * released. A handler that does not finish by then is left behind unacknowledged, and the
   * name to its lease's end: stop() never hangs on a handler.
   */
  stop(): Promise<void>;
}
