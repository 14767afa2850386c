import type { HandlerContext } from "./consumer-types.js";

/**
 * The context of one call of a consumer's handler. Its `signal` is made only when the
 * handler reads it (most handlers never do, and an AbortController with a listener per
 * event is a fifth of a no-op handler's cost), and is the call's own: what a handler hangs
 * on it (a fetch's listener) goes with the call, instead of staying on the hold's signal
 * for the rest of the hold. It aborts with the hold's signal while the call runs, and lets
 * go of it once the call settled. A class, not an object literal with a getter: one is
 * made per event.
 */
export class HandlerCall implements HandlerContext {
  private own: AbortController | undefined;
  private onHoldAbort: (() => void) | undefined;
  private settled = false;

  constructor(
    readonly attempt: number,
    private readonly hold: AbortSignal,
  ) {}

  get signal(): AbortSignal {
    if (!this.own) {
      const own = new AbortController();
      this.own = own;
      if (this.hold.aborted) own.abort(this.hold.reason);
      else if (!this.settled) {
        this.onHoldAbort = () => own.abort(this.hold.reason);
        this.hold.addEventListener("abort", this.onHoldAbort, { once: true });
      }
    }
    return this.own.signal;
  }

  /** The call settled with `outcome` (returned): its signal no longer follows the hold's. */
  settle<T>(outcome: T): T {
    this.settled = true;
    if (this.onHoldAbort) this.hold.removeEventListener("abort", this.onHoldAbort);
    this.onHoldAbort = undefined;
    return outcome;
  }
}
