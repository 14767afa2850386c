import { setTimeout as sleep } from "node:timers/promises";
import { type SerializedError, serializeError } from "../domain/errors.js";
import type { PayoutStore } from "../storage/types.js";
import { type PayoutEvent, toPayoutEvent } from "./payout-event.js";

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
  /** Stops: the handler in flight finishes, its acknowledgement is written, the name is released. */
  stop(): Promise<void>;
}

/**
 * A named, durable consumer of the event feed: at least once, in feed order, one holder per
 * name across the fleet.
 *
 * The holder reads a batch after its cursor, calls the handler for each event in turn
 * (retrying one that throws, with backoff, never skipping it), and writes the cursor after
 * the batch: a crash redelivers at most the batch in flight, and nothing before it. The
 * name's lease is renewed every third of `leaseMs` while the process lives, and each write
 * of the cursor is fenced by it. A holder whose renewal fails, or that has not renewed for
 * most of a lease (a stalled process), stops calling the handler before another may take
 * over: two processes never handle the same name at once.
 */
export function startEventConsumer(
  deps: {
    store: PayoutStore;
    owner: string;
    /** Calls `wake` whenever this process saves a step. Returns the unsubscribe. */
    onLocalStep: (wake: () => void) => () => void;
  },
  name: string,
  handler: (event: PayoutEvent) => unknown,
  options: ConsumeOptions = {},
): EventConsumer {
  const { store, owner } = deps;
  const from = options.from ?? "start";
  const batchSize = options.batchSize ?? 100;
  const pollMs = options.pollMs ?? 1000;
  const leaseMs = options.leaseMs ?? 15_000;
  const baseDelayMs = options.backoff?.baseDelayMs ?? 500;
  const maxDelayMs = options.backoff?.maxDelayMs ?? 30_000;
  const stopper = new AbortController();
  let holding = false;
  let cursor = 0;
  /** The cursor as last written. */
  let written = 0;
  let handled = 0;
  /** performance.now() when the last successful renewal was sent: the lease runs from then. */
  let renewedAt = 0;
  let lost = false;
  let wakeUp: (() => void) | undefined;

  const stopped = () => stopper.signal.aborted;
  const unsubscribe = deps.onLocalStep(() => wakeUp?.());
  options.signal?.addEventListener("abort", () => stopper.abort(), { once: true });

  /** Waits `ms`, or less if a local step or a stop comes first. */
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        stopper.signal.removeEventListener("abort", done);
        resolve();
      }
      wakeUp = done;
      stopper.signal.addEventListener("abort", done, { once: true });
    });

  /** A holder trusts its lease only for most of it after the last renewal it saw succeed. */
  const leaseTrusted = () => !lost && performance.now() - renewedAt < leaseMs * 0.8;

  /** Writes the cursor and renews the lease; marks the lease lost if the store refused. */
  const ack = async (): Promise<boolean> => {
    const sent = performance.now();
    const target = cursor;
    const kept = await store.ackConsumer(name, owner, target, leaseMs).catch(() => false);
    if (!kept) {
      lost = true;
      return false;
    }
    renewedAt = Math.max(renewedAt, sent);
    written = Math.max(written, target);
    return true;
  };

  const renewer = async () => {
    while (!stopped()) {
      await sleep(leaseMs / 3, undefined, { signal: stopper.signal }).catch(() => undefined);
      if (stopped() || !holding) continue;
      await ack();
    }
  };

  const handle = async (event: PayoutEvent): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      if (!leaseTrusted() || stopped()) return false;
      try {
        await handler(event);
        handled += 1;
        return true;
      } catch (error) {
        options.onError?.(error, event, attempt);
        const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        await sleep(ceiling / 2 + Math.random() * (ceiling / 2), undefined, {
          signal: stopper.signal,
        }).catch(() => undefined);
      }
    }
  };

  /** Handles batches while the lease claimed at `claimedAt` (when the claim was sent) holds. */
  const hold = async (claimedAt: number) => {
    lost = false;
    renewedAt = claimedAt;
    holding = true;
    try {
      while (!stopped() && leaseTrusted()) {
        const lines = await store.readJournal(cursor, batchSize);
        if (lines.length === 0) {
          await nap(pollMs);
          continue;
        }
        for (const line of lines) {
          if (!(await handle(toPayoutEvent(line)))) break;
          cursor = line.position!;
        }
        if (cursor > written && !(await ack())) break;
      }
      // Stopping: what was handled is acknowledged before the name is let go.
      if (!lost && cursor > written) await ack();
    } finally {
      holding = false;
    }
  };

  const run = async () => {
    const renewal = renewer();
    try {
      while (!stopped()) {
        try {
          const claimedAt = performance.now();
          const claim = await store.claimConsumer(name, owner, leaseMs, from);
          if (!claim) {
            // Another process holds the name: stand by until its lease may have ended.
            await nap(Math.min(pollMs, leaseMs / 3));
            continue;
          }
          // The stored cursor: another holder may have moved it since this one last held.
          cursor = claim.cursor;
          written = claim.cursor;
          await hold(claimedAt);
        } catch (error) {
          // The store failed (a restart, a network cut): nothing was acknowledged that was
          // not handled. Try again; the lease, if still ours, is claimed back.
          options.onStoreError?.(serializeError(error));
          await nap(pollMs);
        }
      }
    } finally {
      unsubscribe();
      await renewal;
      if (!lost) await store.releaseConsumer(name, owner).catch(() => undefined);
    }
  };

  const done = run();
  return {
    name,
    get holding() {
      return holding;
    },
    get cursor() {
      return written;
    },
    get handled() {
      return handled;
    },
    done,
    async stop() {
      stopper.abort();
      await done;
    },
  };
}
