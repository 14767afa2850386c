import type { EffectError, Stamped } from "./types.js";

/** The error an effect failed with, as the machine receives it (serialised, stamped). */
export const errorOf = (event: unknown): EffectError => (event as { error: EffectError }).error;

/** What an effect gave back, as the machine receives it (stamped). */
export const outputOf = <T>(event: unknown): Stamped<T> => (event as { output: Stamped<T> }).output;

/** The runtime time an event carries: commands have `at`, effect results carry it inside. */
export function eventTime(event: unknown): number {
  const e = event as { at?: number; output?: { at?: number }; error?: { at?: number } };
  return e.at ?? e.output?.at ?? e.error?.at ?? 0;
}

/** True for an effect's error event (as opposed to its done event). */
export const isErrorEvent = (event: unknown): boolean =>
  typeof event === "object" && event !== null && "error" in event;
