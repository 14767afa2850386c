import type { JsonObject } from "../domain/json.js";
import type { PendingInvoke } from "../machines/xstate-adapter.js";
import type { PayoutStore, StoredPayout } from "../storage/types.js";
import type { DurableMachine, MachineEvent } from "./durable-machine.js";
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
  /** Watches runs, effects and saves (telemetry); undefined costs nothing. */
  observer?: RunObserver<Snapshot> | undefined;
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

/**
 * What a runner tells its watcher (the telemetry): the one seam through which runs, effects
 * and saves are seen, so that nothing else in the loop knows tracing or metrics exist.
 * Implementations must not throw: a watcher's bug must never stop a payout.
 */
export interface RunObserver<Snapshot> {
  /**
   * A runner starts driving a machine, from this record: what watches this run (undefined
   * to watch nothing). The runner keeps it, so per-run state needs no lookup by key.
   */
  started(record: StoredPayout, snapshot: Snapshot): RunWatch | undefined;
}

/** One run, watched: one effect at a time, each of its saves, and its end (the last call). */
export interface RunWatch {
  /**
   * Runs one effect: `run` performs it and never rejects (errors come back as error events).
   * The watcher may wrap it (a span around it, a clock) and must return what it returns.
   */
  effect(effect: PendingInvoke, run: () => Promise<MachineEvent>): Promise<MachineEvent>;
  /** A step was saved (after `onStep`). */
  saved(step: SavedStep): void;
  /** The run ended: how, or undefined when its loop threw. */
  ended(end: RunEnd | undefined): void;
}
