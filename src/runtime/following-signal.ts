/**
 * The signal of one call (a handler's, an effect's), made only when the call reads it: most
 * calls never do, and an AbortController with a listener on its parent per call costs more
 * than many a call itself. While the call runs it aborts with its parent (the consumer's
 * hold, the runner's stop); `abort()` aborts it alone (a command left the effect behind).
 * Once released it no longer follows the parent, so that what a call hangs on its signal
 * (a fetch's listener) goes with the call instead of staying on the parent. A class, not an
 * object literal with a getter: one is made per call.
 */
export class FollowingSignal {
  private own: AbortController | undefined;
  private onParentAbort: (() => void) | undefined;
  private released = false;
  private abortedAlone = false;

  constructor(private readonly parent: AbortSignal) {}

  get signal(): AbortSignal {
    if (!this.own) {
      const own = new AbortController();
      this.own = own;
      if (this.abortedAlone) own.abort();
      else if (this.parent.aborted) own.abort(this.parent.reason);
      else if (!this.released) {
        this.onParentAbort = () => own.abort(this.parent.reason);
        this.parent.addEventListener("abort", this.onParentAbort, { once: true });
      }
    }
    return this.own.signal;
  }

  /** Aborts this call's signal (now, or when it is made), not its parent's. */
  abort(): void {
    this.abortedAlone = true;
    this.own?.abort();
  }

  /** The call is over: its signal no longer follows the parent's. */
  release(): void {
    this.released = true;
    if (this.onParentAbort) this.parent.removeEventListener("abort", this.onParentAbort);
    this.onParentAbort = undefined;
  }
}
