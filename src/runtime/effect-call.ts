import type { EffectContext } from "../machines/effects.js";
import { FollowingSignal } from "./following-signal.js";

/**
 * The context of one run of an effect: whether it is a replay, and a signal made only when
 * the effect reads it (most never do), aborted when the runner stops or a command leaves the
 * effect behind (see FollowingSignal). Made per effect.
 */
export class EffectCall extends FollowingSignal implements EffectContext {
  constructor(
    readonly replay: boolean,
    stop: AbortSignal,
  ) {
    super(stop);
  }
}
