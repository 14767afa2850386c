import type { PayoutStore } from "../storage/types.js";

interface Waiter {
  key: string;
  wake: () => void;
}

/**
 * Hands out Pi's one-incomplete-payment slots, through the store so that every process
 * agrees. Waiters of one scope queue in order; only the head asks the store, again when
 * a local release wakes it or after `pollMs` (a release by another process).
 */
export class SlotGate {
  private readonly queues = new Map<string, Waiter[]>();

  constructor(
    private readonly store: PayoutStore,
    private readonly pollMs: number,
    /**
     * Called when the slot is held by another payout: drives that payout here if nobody
     * drives it any more (its process died). Without it, payouts queued behind a dead
     * holder would wait forever, since every worker's hands are full of them.
     */
    private readonly onHeldBy: (holder: string) => Promise<void> = async () => {},
  ) {}

  /** Resolves once `key` holds the slot of `scope`. */
  async acquire(scope: string, key: string, signal: AbortSignal): Promise<void> {
    // A payout that took the slot before a crash holds it still: it must not queue behind
    // payouts that wait for it to finish (they would wait forever).
    if ((await this.store.slotHolder(scope)) === key) return;
    if (!this.queues.get(scope)?.length && (await this.store.acquireSlot(scope, key))) return;
    const queue = this.queues.get(scope) ?? [];
    this.queues.set(scope, queue);
    let wake!: () => void;
    let woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const waiter: Waiter = {
      key,
      wake: () => {
        wake();
      },
    };
    queue.push(waiter);
    const onAbort = () => waiter.wake();
    signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        signal.throwIfAborted();
        if (queue[0] === waiter) {
          if (await this.store.acquireSlot(scope, key)) return;
          const holder = await this.store.slotHolder(scope);
          if (holder !== undefined && holder !== key)
            await this.onHeldBy(holder).catch(() => undefined);
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          woken,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, this.pollMs))),
        ]);
        clearTimeout(timer);
        woken = new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      const at = queue.indexOf(waiter);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0) this.queues.delete(scope);
      else queue[0]?.wake();
    }
  }

  /** Whether payouts of this process queue for the scope's slot now. */
  hasWaiters(scope: string): boolean {
    return (this.queues.get(scope)?.length ?? 0) > 0;
  }

  /** Wakes the head of a scope's queue: its slot was released in this process. */
  notify(scope: string): void {
    this.queues.get(scope)?.[0]?.wake();
  }
}
