import type { JsonObject } from "../domain/json.js";
import type { PayoutStore, StoredPayout } from "../storage/types.js";
import type { DurableMachine } from "./durable-machine.js";
import type { LeaseKeeper } from "./lease-keeper.js";
import type { Scrubber } from "./scrub.js";

/** A point where the runner awaits: instrumentation, and where crash tests strike. */
export type ProbePoint =
  | { point: "effect:start" | "effect:end"; key: string; effect: string; state: string }
  | { point: "save:start" | "save:end"; key: string; state: string; event: string };

/** Called (and awaited) at every {@link ProbePoint}. A probe that throws stops the runner as a crash would. */
export type Probe = (point: ProbePoint) => void | Promise<void>;

/** One saved step, as the runtime hands it on (to subscribers, the inspector). */
export interface SavedStep {
  key: string;
  from: string;
  to: string;
  event: string;
  /** The journal line's facts about the step. */
  details: Record<string, unknown>;
  at: string;
  payout: StoredPayout;
}

/** A person's command to a machine: `CANCEL`, `RETRY`, with who asked and why (journaled). */
export type Command = { type: string; at: number; by?: string; reason?: string };

/**
 * The host's hook run inside the transaction that brings a machine to rest: `view` is the
 * record as it will be, `tx` the store's transaction handle.
 */
export type RestHook = (view: JsonObject, tx: unknown) => void | Promise<void>;

/** A queued command and who waits to know whether the machine took it. */
export interface QueuedCommand {
  event: Command;
  resolve: (accepted: boolean) => void;
}

/** What a runner needs. */
export interface RunnerDeps<Snapshot> {
  machine: DurableMachine<Snapshot>;
  store: PayoutStore;
  owner: string;
  leaseMs: number;
  /** Renews the leases of every runner of this runtime, in one write. */
  leases: LeaseKeeper;
  now: () => number;
  scrub: Scrubber;
  probe: Probe | undefined;
  /** After every saved step. */
  onStep: (step: SavedStep, snapshot: Snapshot) => void;
  /** A save freed a slot: wake this process's waiters for it. */
  onSlotFreed: (scope: string) => void;
  /** The host's hook, run inside every save that brings a machine to a (new) rest state. */
  onRest?: RestHook | undefined;
  /**
   * The wait before a step the hook refused is tried again, after `attempt` refusals in a row.
   * @default doubling from 1 s to 5 min
   */
  hookBackoffMs?: (attempt: number) => number;
}

/** How a run ended. */
export type RunEnd =
  | { status: "at rest"; payout: StoredPayout }
  | { status: "stopped"; reason: "closed" | "lease_lost" | "crashed"; payout: StoredPayout };
