import type { SnapshotFrom } from "xstate";
import { type PayoutMachine, payoutMachine } from "./payout-machine.js";
import { PAYOUT_STATES, type PayoutContext, type PayoutInput, type PayoutState } from "./types.js";
import { inertScope, type PendingInvoke, pendingInvoke } from "./xstate-adapter.js";

/** A live snapshot of a payout machine. */
export type PayoutSnapshot = SnapshotFrom<PayoutMachine>;

/** A snapshot as stored: plain JSON, no live actors. */
export interface PersistedPayoutSnapshot {
  status: string;
  value: unknown;
  historyValue: unknown;
  context: PayoutContext;
  children: Record<string, never>;
}

/** The effect a snapshot is waiting on: which invoke, which effect, with what input. */
export type PendingEffect = PendingInvoke;

/** Any event the payout machine takes: commands, and done or error events of its effects. */
export type PayoutMachineEvent = { type: string; at?: number; output?: unknown; error?: unknown };

/** The first snapshot of a new payout. */
export function startPayout(
  input: PayoutInput,
  machine: PayoutMachine = payoutMachine,
): PayoutSnapshot {
  // As xstate's initialTransition(), in the cached scope (see inertScope).
  return machine.getInitialSnapshot(scopeOf(machine), input);
}

/** A stored snapshot made live again. */
export function restorePayout(
  persisted: PersistedPayoutSnapshot,
  machine: PayoutMachine = payoutMachine,
): PayoutSnapshot {
  return machine.resolveState(
    structuredClone(persisted) as unknown as Parameters<PayoutMachine["resolveState"]>[0],
  );
}

/**
 * The snapshot as plain JSON. Invoked children are left out: the runtime, not xstate,
 * starts effects, and it reads them from the state nodes (see {@link pendingEffect}).
 */
export function persistPayout(
  snapshot: PayoutSnapshot,
  machine: PayoutMachine = payoutMachine,
): PersistedPayoutSnapshot {
  // Context holds plain JSON only (the machine assigns nothing else); the stores serialise it.
  const persisted = machine.getPersistedSnapshot(snapshot) as unknown as PersistedPayoutSnapshot;
  return { ...persisted, children: {} };
}

/**
 * The effect the snapshot waits on, with its input resolved from context, or undefined in a
 * state that waits for nobody (`completed`, `cancelled`, `failed.resting`).
 */
export function pendingEffect(
  snapshot: PayoutSnapshot,
  machine: PayoutMachine = payoutMachine,
): PendingEffect | undefined {
  return pendingInvoke(machine, snapshot);
}

/**
 * The next snapshot after an event (the same object when the event changes nothing).
 * Whether an effect in flight must stop is read from {@link pendingEffect} before and
 * after: xstate's stopChild actions cannot name children a restored snapshot never spawned.
 */
export function stepPayout(
  snapshot: PayoutSnapshot,
  event: PayoutMachineEvent,
  machine: PayoutMachine = payoutMachine,
): { snapshot: PayoutSnapshot } {
  return { snapshot: machine.transition(snapshot, event as never, scopeOf(machine)) };
}

/** The actor scope of the payout machine's pure transitions (see {@link inertScope}). */
const scopeOf = (machine: PayoutMachine) => inertScope(machine, placeholderInput);

const placeholderInput: PayoutInput = {
  key: "",
  intent: { uid: "", amount: "1" as PayoutInput["intent"]["amount"], memo: "", metadata: {} },
  walletAddress: "",
  network: "Pi Testnet",
  slotScope: "",
  timing: {
    baseDelayMs: 0,
    maxDelayMs: 0,
    maxNotVerified: 1,
    createGraceMs: 0,
    maxDeadEnvelopes: 1,
  },
};

/** The main state (the lifecycle contract) and the full state path, e.g. `submitted.waiting`. */
export function describeState(snapshot: { value: unknown }): {
  state: PayoutState;
  detail: string;
} {
  const path: string[] = [];
  let value = snapshot.value;
  while (value !== undefined) {
    if (typeof value === "string") {
      path.push(value);
      break;
    }
    const [key, inner] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (key === undefined) break;
    path.push(key);
    value = inner;
  }
  const state = path[0] as PayoutState;
  if (!PAYOUT_STATES.includes(state))
    throw new Error(`Unknown payout state ${JSON.stringify(snapshot.value)}`);
  return { state, detail: path.join(".") };
}

/**
 * True once a payout rests: nothing is left for a runtime to do (`completed`, `cancelled`, or
 * `failed` waiting for a person). A failed payout still watching its refused envelope or
 * releasing its Pi payment is not at rest yet: it is driven until it is.
 */
export function isAtRest(
  snapshot: PayoutSnapshot,
  machine: PayoutMachine = payoutMachine,
): boolean {
  return pendingEffect(snapshot, machine) === undefined;
}
