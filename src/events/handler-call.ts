import { FollowingSignal } from "../runtime/following-signal.js";
import type { HandlerContext } from "./consumer-types.js";

/**
 * The context of one call of a consumer's handler: its attempt, and a signal that is made
 * only when the handler reads it and aborts with the hold's while the call runs (see
 * FollowingSignal). Made per event.
 */
export class HandlerCall extends FollowingSignal implements HandlerContext {
  constructor(
    readonly attempt: number,
    hold: AbortSignal,
  ) {
    super(hold);
  }

  /** The call settled with `outcome` (returned): its signal no longer follows the hold's. */
  settle<T>(outcome: T): T {
    this.release();
    return outcome;
  }
}
