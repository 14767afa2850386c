import type { AnyStateMachine } from "xstate";
import { payoutMachine as machine } from "./machines/payout-machine.js";

/**
 * The payout machine, for tools: the inspector, diagrams, or running it under xstate's own
 * runtime with effects provided by name (`payoutMachine.provide({ actors })`). Typed as
 * any machine here; the library keeps its precise type inside.
 */
export const payoutMachine: AnyStateMachine = machine;
