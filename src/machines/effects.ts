import { fromPromise, type PromiseActorLogic } from "xstate";
import type { Stamped } from "./types.js";

/**
 * An effect as a machine declares it: its name (the key it is declared under), the input it
 * takes and the output it gives. The declaration carries types only; the machine's invoke
 * stubs and the runtime's implementations are both derived from it, so an effect is named
 * once.
 */
export interface Effect<Input, Output> {
  readonly __input?: Input;
  readonly __output?: Output;
}

/** Declares an effect taking `Input` and giving `Output`. */
export const effect = <Input, Output>(): Effect<Input, Output> => ({});

/** A machine's effects, by name. */
// biome-ignore lint/suspicious/noExplicitAny: declarations of any input and output.
export type EffectDeclarations = Record<string, Effect<any, any>>;

/** The input of a declared effect. */
export type InputOf<E> = E extends Effect<infer Input, unknown> ? Input : never;
/** The output of a declared effect. */
export type OutputOf<E> = E extends Effect<unknown, infer Output> ? Output : never;

/** What an effect is told besides its input. */
export interface EffectContext {
  /** Aborted when the machine leaves the state that started the effect, or its runner stops. */
  signal: AbortSignal;
  /**
   * True when the effect starts from a stored snapshot that an earlier run may already have
   * acted on (a resume after a crash): look before acting again.
   */
  replay: boolean;
}

/** What implements a machine's effects: one function per declared effect. */
export type EffectImplementations<D extends EffectDeclarations> = {
  [K in keyof D]: (input: InputOf<D[K]>, context: EffectContext) => Promise<OutputOf<D[K]>>;
};

/** The invoke stubs a machine is set up with: run without implementations, each says so. */
export type EffectStubs<D extends EffectDeclarations> = {
  [K in keyof D]: PromiseActorLogic<Stamped<OutputOf<D[K]>>, InputOf<D[K]>>;
};

/**
 * The actors for `setup({ actors })`, one per declared effect. The runtime, not xstate,
 * runs effects (it saves first); under xstate's own runtime they are provided by name with
 * `machine.provide({ actors })`, and one left unprovided fails loudly instead of acting.
 */
export function effectStubs<D extends EffectDeclarations>(
  machineName: string,
  declarations: D,
): EffectStubs<D> {
  return Object.fromEntries(
    Object.keys(declarations).map((name) => [
      name,
      fromPromise(async () => {
        throw new Error(`The ${machineName} machine's "${name}" effect was not provided.`);
      }),
    ]),
  ) as EffectStubs<D>;
}

/**
 * Runs the effect a machine waits on, by its declared name: the one place where a name
 * becomes a call.
 * @throws Error when no implementation has that name (a machine and its effects out of step)
 */
export function runEffect<D extends EffectDeclarations>(
  implementations: EffectImplementations<D>,
  name: string,
  input: unknown,
  context: EffectContext,
): Promise<object> {
  const run = (implementations as Record<string, unknown>)[name];
  if (typeof run !== "function") throw new Error(`No implementation of the effect "${name}".`);
  return (run as (input: unknown, context: EffectContext) => Promise<object>)(input, context);
}
