import { ValidationError } from "../domain/errors.js";
import type { PayoutStore } from "../storage/types.js";
import type { LeaseClaims } from "./lease-claims.js";
import type { RunnerRegistry } from "./runner-registry.js";
import type { Payouts } from "./types.js";

/** What a worker needs of a runtime, beyond its public API. */
export interface RuntimeInternals {
  store: PayoutStore;
  owner: string;
  leaseMs: number;
  pollMs: number;
  runners: RunnerRegistry;
  claims: LeaseClaims;
}

// Held beside the runtime, not on it: the public object carries only the public API.
const byRuntime = new WeakMap<Payouts, RuntimeInternals>();

/** Records a runtime's internals (createPayouts). */
export function registerInternals(payouts: Payouts, internals: RuntimeInternals): void {
  byRuntime.set(payouts, internals);
}

/**
 * The internals of a runtime made by `createPayouts`.
 * @throws ValidationError naming `payouts` for anything else
 */
export function internalsOf(payouts: Payouts): RuntimeInternals {
  const internals = byRuntime.get(payouts);
  if (!internals) {
    throw new ValidationError(
      "Invalid payouts: pass the runtime createPayouts() returned.",
      [{ path: "payouts", message: "must be a runtime made by createPayouts()" }],
      "INVALID_OPTIONS",
    );
  }
  return internals;
}
