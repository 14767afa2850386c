import { type AnyStateNode, createActor, type SnapshotFrom } from "xstate";
import { type PayoutMachine, payoutMachine } from "./payout-machine.js";
import { PAYOUT_STATES, type PayoutContext, type PayoutInput, type PayoutState } from "./types.js";

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

/** The effect a snapshot is waiting on: which invoke, which implementation, with what input. */
export interface PendingEffect {
  /** The invoke's id: done and error events are addressed to it. */
  id: string;
  /** The effect's name in `setup({ actors })`. */
  src: string;
  input: unknown;
  /** The state node that invoked it. */
  stateNode: string;
}

/** Any event the machine takes: commands, and done or error events of its effects. */
export type PayoutEvent = { type: string; at?: number; output?: unknown; error?: unknown };

/** The first snapshot of a new payout. */
export function startPayout(
  input: PayoutInput,
  machine: PayoutMachine = payoutMachine,
): PayoutSnapshot {
  // As xstate's initialTransition(), in the cached scope (see inertScope).
  return machine.getInitialSnapshot(inertScope(machine), input);
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

/** The state nodes a snapshot is in, outermost first. */
function activeNodes(snapshot: PayoutSnapshot, machine: PayoutMachine): AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const walk = (node: AnyStateNode, value: unknown) => {
    if (typeof value === "string") {
      const child = node.states[value];
      if (child) nodes.push(child);
      return;
    }
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      const child = node.states[key];
      if (!child) continue;
      nodes.push(child);
      walk(child, inner);
    }
  };
  walk(machine.root, snapshot.value);
  return nodes;
}

/**
 * The effect the snapshot waits on, with its input resolved from context, or undefined
 * in a state that waits for nobody (`completed`, `cancelled`, `failed`). The machine is
 * built so that at most one is active at a time.
 */
export function pendingEffect(
  snapshot: PayoutSnapshot,
  machine: PayoutMachine = payoutMachine,
): PendingEffect | undefined {
  for (const node of activeNodes(snapshot, machine).reverse()) {
    const [definition] = node.invoke;
    if (!definition) continue;
    const input =
      typeof definition.input === "function"
        ? (
            definition.input as (args: {
              context: PayoutContext;
              event: unknown;
              self: unknown;
            }) => unknown
          )({
            context: snapshot.context,
            event: { type: "xstate.resume" },
            self: undefined,
          })
        : definition.input;
    return { id: definition.id, src: String(definition.src), input, stateNode: node.id };
  }
  return undefined;
}

/**
 * The next snapshot after an event (the same object when the event changes nothing).
 * Whether an effect in flight must stop is read from {@link pendingEffect} before and
 * after: xstate's stopChild actions cannot name children a restored snapshot never spawned.
 */
export function stepPayout(
  snapshot: PayoutSnapshot,
  event: PayoutEvent,
  machine: PayoutMachine = payoutMachine,
): { snapshot: PayoutSnapshot } {
  return { snapshot: machine.transition(snapshot, event as never, inertScope(machine)) };
}

type ActorScope = Parameters<PayoutMachine["transition"]>[2];
const scopes = new WeakMap<PayoutMachine, ActorScope>();

/**
 * The actor scope a pure transition runs in. It mirrors the one xstate's own `transition()`
 * helper builds (xstate 5.33, pinned), but once per machine instead of per call: building
 * it makes a throwaway actor compute the machine's initial snapshot, which cost more than
 * the transition itself. Transitions are synchronous, so one scope serves them all; the
 * actions it is handed are dropped, since the runtime, not xstate, runs every effect.
 */
function inertScope(machine: PayoutMachine): ActorScope {
  let scope = scopes.get(machine);
  if (!scope) {
    const self = createActor(machine, { input: placeholderInput });
    scope = {
      self,
      defer: () => {},
      id: "",
      logger: () => {},
      sessionId: "",
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: () => {},
    } as unknown as ActorScope;
    scopes.set(machine, scope);
  }
  return scope;
}

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
export function isSettled(
  snapshot: PayoutSnapshot,
  machine: PayoutMachine = payoutMachine,
): boolean {
  return pendingEffect(snapshot, machine) === undefined;
}
