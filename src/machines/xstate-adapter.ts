import { type AnyStateMachine, type AnyStateNode, createActor } from "xstate";

/*
 * The two places the library reads xstate past its public API, kept here and nowhere else
 * (test/machines/xstate-adapter.test.ts fails loudly when an upgrade changes them):
 *
 * 1. The actor scope of a pure transition. xstate's own `transition()` builds a throwaway
 *    actor per call to make one, which costs more than the transition itself; the runtime
 *    steps a machine hundreds of times a second, so it builds the same scope once per machine.
 * 2. The invoke definitions of the active state nodes (`node.invoke`: id, src, input). The
 *    runtime, not xstate, starts effects (it saves first, DESIGN P1), and a snapshot restored
 *    after a crash has no live children to ask: what an effect is comes from the nodes.
 */

type ActorScope = Parameters<AnyStateMachine["transition"]>[2];
const scopes = new WeakMap<AnyStateMachine, ActorScope>();

/**
 * The actor scope a pure transition runs in, as xstate's `transition()` helper builds it
 * (xstate 5.33, pinned), made once per machine. Transitions are synchronous, so one scope
 * serves them all; the actions it is handed are dropped: the runtime runs every effect.
 * `placeholderInput` is any valid input: the throwaway actor computes an initial snapshot.
 */
export function inertScope(machine: AnyStateMachine, placeholderInput: unknown): ActorScope {
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

/** An invoke a snapshot waits on: its id (events are addressed to it), its source, its input. */
export interface PendingInvoke {
  id: string;
  /** The effect's declared name (`setup({ actors })`). */
  src: string;
  input: unknown;
  /** The state node that invokes it. */
  stateNode: string;
}

/** The state nodes a snapshot is in, outermost first. */
function activeNodes(machine: AnyStateMachine, value: unknown): AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const walk = (node: AnyStateNode, at: unknown) => {
    if (typeof at === "string") {
      const child = node.states[at];
      if (child) nodes.push(child);
      return;
    }
    for (const [key, inner] of Object.entries(at as Record<string, unknown>)) {
      const child = node.states[key];
      if (!child) continue;
      nodes.push(child);
      walk(child, inner);
    }
  };
  walk(machine.root, value);
  return nodes;
}

/**
 * The invoke the innermost active state waits on, its input resolved from context, or
 * undefined in a state that waits for nobody. Machines driven by the runtime invoke at most
 * one effect at a time.
 */
export function pendingInvoke(
  machine: AnyStateMachine,
  snapshot: { value: unknown; context: unknown },
): PendingInvoke | undefined {
  for (const node of activeNodes(machine, snapshot.value).reverse()) {
    const [definition] = node.invoke;
    if (!definition) continue;
    const input =
      typeof definition.input === "function"
        ? (
            definition.input as (args: {
              context: unknown;
              event: unknown;
              self: unknown;
            }) => unknown
          )({ context: snapshot.context, event: { type: "xstate.resume" }, self: undefined })
        : definition.input;
    return { id: definition.id, src: String(definition.src), input, stateNode: node.id };
  }
  return undefined;
}
