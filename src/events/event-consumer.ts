import { randomBytes } from "node:crypto";
import { setTimeout as sleep, setImmediate as yieldToEventLoop } from "node:timers/promises";
import { serializeError } from "../domain/errors.js";
import type { PayoutStore } from "../storage/types.js";
import type { ConsumeOptions, EventConsumer, EventHandler } from "./consumer-types.js";
import { HandlerCall } from "./handler-call.js";
import { onAbort } from "./on-abort.js";
import { type PayoutEvent, toPayoutEvent } from "./payout-event.js";

/** How long a consumer woken by a local step waits for the steps that come with it. */
const LOCAL_STEP_GATHER_MS = 20;

/** How one call of a handler went. */
type Attempt = { ok: true } | { ok: false; error: unknown };
const SUCCEEDED: Attempt = { ok: true };

/**
 * A named, durable consumer of the event feed: at least once, in feed order, one holder per
 * name across the fleet.
 *
 * The holder reads a batch after its cursor, calls the handler for each event in turn
 * (retrying one that throws, with backoff, never skipping it), and writes the cursor after
 * the batch: a crash redelivers at most the batch in flight, and nothing before it. The
 * name's lease is renewed every third of `leaseMs` while the process lives, and each write
 * of the cursor is fenced by it. A holder whose renewal fails, or that has not renewed for
 * most of a lease (a stalled process, a store cut off), stops before another may take over:
 * it calls no handler, aborts the signal of the one in flight and stops waiting for it.
 *
 * What this does not do, and no lease can: stop a handler that ignores its signal, or a
 * process frozen in the middle of one. A handler may thus (rarely, after a stall longer than
 * most of a lease) still run while the next holder starts: handlers must be idempotent on
 * `event.id`, as at-least-once needs anyway.
 *
 * Each consumer holds its lease under its own id (the runtime's owner and a random suffix),
 * so two consumers of one name in one process are two holders in turn, never at once.
 */
export function startEventConsumer(
  deps: {
    store: PayoutStore;
    owner: string;
    /** Calls `wake` whenever this process saves a step. Returns the unsubscribe. */
    onLocalStep: (wake: () => void) => () => void;
  },
  name: string,
  handler: EventHandler,
  options: ConsumeOptions = {},
): EventConsumer {
  const { store } = deps;
  const owner = `${deps.owner}#${randomBytes(4).toString("hex")}`;
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
  /** A handler left running when the lease lapsed: no new claim until it settles. */
  let abandoned = false;
  let wakeUp: (() => void) | undefined;

  /**
   * A local step was saved since the holder's last read began. A step saved while it reads
   * finds no nap to cut short: the read may have missed its line (committed after the read),
   * so the nap after an empty read is then only the gather time, not the whole poll. (Only
   * that nap: a consumer standing by for another holder's lease does not read the feed.)
   */
  let steppedSinceRead = false;
  const stopped = () => stopper.signal.aborted;
  const unsubscribe = deps.onLocalStep(() => {
    steppedSinceRead = true;
    wakeUp?.();
  });
  // A signal aborted already stops the consumer before it starts.
  if (options.signal) onAbort(options.signal, () => stopper.abort());

  /**
   * Waits `ms`, or less if a local step or a stop comes first. A stop that came before the
   * nap (while the store was read) ends it at once.
   */
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      let timer = setTimeout(done, ms);
      let unlisten = () => {};
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        unlisten();
        resolve();
      }
      // A local step wakes the consumer a moment later, not at once: the steps of that moment
      // (a payout makes several in a row, a busy runtime many) are read and acknowledged as
      // one batch instead of a read and a write each.
      wakeUp = () => {
        wakeUp = undefined;
        clearTimeout(timer);
        timer = setTimeout(done, Math.min(ms, LOCAL_STEP_GATHER_MS));
      };
      // Last: a stop already made calls `done` now, which undoes what is set above.
      unlisten = onAbort(stopper.signal, done);
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

  /**
   * Watches the lease while the name is held (checked often), and owns the hold's signal:
   * aborted when the consumer stops, when the lease lapses and when the hold ends, and
   * passed on to each call that reads its own (see callHandler). One per hold. `race`
   * settles a handler's pending call with "lapsed" if the lease can no longer be trusted
   * first. Each race waits on a callback of its own, not on one promise shared by the hold:
   * a race against a shared promise that never settles leaves a reaction on it per call,
   * kept for the whole hold (a holder that handles a million events would keep a million
   * closures).
   */
  const watchHold = () => {
    const fence = new AbortController();
    const unlistenStop = onAbort(stopper.signal, () =>
      fence.abort(new Error("The consumer is stopping.")),
    );
    let notify: (() => void) | undefined;
    const timer = setInterval(
      () => {
        if (!leaseTrusted()) notify?.();
      },
      Math.max(5, leaseMs / 20),
    );
    return {
      signal: fence.signal,
      race<T>(call: Promise<T>): Promise<T | "lapsed"> {
        if (!leaseTrusted()) return Promise.resolve("lapsed");
        return new Promise((resolve) => {
          notify = () => resolve("lapsed");
          void call.then((value) => {
            notify = undefined;
            resolve(value);
          });
        });
      },
      lapse: () =>
        fence.abort(new Error("The consumer's lease on its name can no longer be trusted.")),
      cancel: () => {
        clearInterval(timer);
        unlistenStop();
        fence.abort(new Error("The consumer's hold on its name ended."));
      },
    };
  };
  type HoldWatch = ReturnType<typeof watchHold>;

  /**
   * One call of the handler. A handler that returns a plain value (or throws) is settled at
   * once, without a turn of the microtask queue; one that returns a thenable gives a promise
   * of its outcome, which never rejects.
   */
  const callHandler = (
    event: PayoutEvent,
    attempt: number,
    watch: HoldWatch,
  ): Attempt | Promise<Attempt> => {
    const call = new HandlerCall(attempt, watch.signal);
    try {
      const result: unknown = handler(event, call);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then !== "function") {
        return call.settle(SUCCEEDED);
      }
      return Promise.resolve(result).then(
        () => call.settle(SUCCEEDED),
        (error: unknown) => call.settle<Attempt>({ ok: false, error }),
      );
    } catch (error) {
      // Thrown by the handler, or by the `then` of what it returned.
      return call.settle<Attempt>({ ok: false, error });
    }
  };

  /**
   * Calls the handler until it succeeds: true once it did, false once this process must stop
   * handling. Synchronous (no promise) when the first call succeeds synchronously.
   */
  const handle = (event: PayoutEvent, watch: HoldWatch): boolean | Promise<boolean> => {
    if (!leaseTrusted() || stopped()) return false;
    const first = callHandler(event, 1, watch);
    if (first instanceof Promise || !first.ok) return handleUntilDone(event, watch, first);
    handled += 1;
    return true;
  };

  /** The rest of `handle`: waits for a pending call, retries a failed one with backoff. */
  const handleUntilDone = async (
    event: PayoutEvent,
    watch: HoldWatch,
    first: Attempt | Promise<Attempt>,
  ): Promise<boolean> => {
    let pending = first;
    for (let attempt = 1; ; attempt++) {
      const outcome = pending instanceof Promise ? await watch.race(pending) : pending;
      if (outcome === "lapsed") {
        // Another holder may take over soon: tell the handler, and stop waiting for it.
        // The name is neither acknowledged nor released from here on (the handler may
        // still be running): it passes on when its lease ends. This consumer claims again
        // only once that handler has settled, so it never runs two at once itself.
        watch.lapse();
        lost = true;
        abandoned = true;
        // Told by a flag, not raced as a promise on every poll (each race would leave a
        // reaction on it for as long as the handler runs).
        void (pending as Promise<Attempt>).then(() => {
          abandoned = false;
          wakeUp?.();
        });
        return false;
      }
      if (outcome.ok) {
        handled += 1;
        return true;
      }
      if (stopped()) return false;
      options.onError?.(outcome.error, event, attempt);
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2), undefined, {
        signal: stopper.signal,
      }).catch(() => undefined);
      if (!leaseTrusted() || stopped()) return false;
      pending = callHandler(event, attempt + 1, watch);
    }
  };

  /** Handles batches while the lease claimed at `claimedAt` (when the claim was sent) holds. */
  const hold = async (claimedAt: number) => {
    lost = false;
    renewedAt = claimedAt;
    holding = true;
    const watch = watchHold();
    try {
      while (!stopped() && leaseTrusted()) {
        steppedSinceRead = false;
        const lines = await store.readJournal(cursor, batchSize);
        if (lines.length === 0) {
          // A step saved during the read may be just after what it read: look again soon.
          await nap(steppedSinceRead ? Math.min(pollMs, LOCAL_STEP_GATHER_MS) : pollMs);
          continue;
        }
        for (const line of lines) {
          const handledNow = handle(toPayoutEvent(line), watch);
          if (handledNow === false || (handledNow !== true && !(await handledNow))) break;
          cursor = line.position!;
        }
        if (cursor > written && !(await ack())) break;
        // A full batch: more lines are likely waiting. Timers and I/O (the lease's watch and
        // renewal, this process's payouts) run before the next read: awaiting a store call
        // or a handler that is done yields to promises only, and a long drain would hold
        // the event loop for its whole length.
        if (lines.length === batchSize) await yieldToEventLoop();
      }
      // Stopping: what was handled is acknowledged before the name is let go.
      if (!lost && cursor > written) await ack();
    } finally {
      watch.cancel();
      holding = false;
    }
  };

  const run = async () => {
    const renewal = renewer();
    try {
      while (!stopped()) {
        try {
          if (abandoned) {
            await nap(pollMs);
            continue;
          }
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
      // Released unless a handler left running may still be at work (see handleUntilDone):
      // after a failed or refused acknowledgement too, since the release is fenced by this
      // consumer's own id (a no-op if another holder took over) and a restarted process
      // should not wait out a lease nobody uses.
      if (!abandoned) await store.releaseConsumer(name, owner).catch(() => undefined);
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
