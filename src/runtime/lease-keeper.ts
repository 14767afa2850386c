import type { PayoutStore } from "../storage/types.js";

/**
 * Keeps the leases of every payout this runtime drives alive with one store write per
 * interval (not one per payout: ten thousand payouts waiting for a slot would otherwise
 * cost a thousand writes a second). A payout whose lease did not come back renewed has
 * been taken over or expired: its runner is told, and stops writing.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, () => void>();
  private timer: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    private readonly store: PayoutStore,
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /** Keeps `key`'s lease alive; `onLost` runs if it is lost. */
  keep(key: string, onLost: () => void): void {
    this.held.set(key, onLost);
    if (!this.timer) {
      this.timer = setInterval(() => void this.renew(), Math.max(10, Math.floor(this.leaseMs / 3)));
      this.timer.unref();
    }
  }

  /** Stops keeping `key`'s lease (released, or lost). */
  forget(key: string): void {
    this.held.delete(key);
    if (this.held.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async renew(): Promise<void> {
    if (this.renewing || this.held.size === 0) return;
    this.renewing = true;
    try {
      // Only leases kept before the renewal started are judged: one claimed meanwhile may
      // simply have been written after the renewal's statement ran.
      const judged = [...this.held.keys()];
      const kept = new Set(await this.store.renewAll(this.owner, this.leaseMs));
      for (const key of judged) {
        if (!kept.has(key)) this.held.get(key)?.();
      }
    } catch {
      // A store hiccup: try again next time; a lease that truly expires is caught then.
    } finally {
      this.renewing = false;
    }
  }

  /** Stops the timer. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.held.clear();
  }
}
