import type { JsonObject } from "../domain/json.js";
import type { EffectImplementations } from "../machines/effects.js";
import type { PendingInvoke } from "../machines/xstate-adapter.js";
import type { PayoutWrite, StoredPayout } from "../storage/types.js";

/** Any event a driven machine takes: a person's command, or an effect's done or error event. */
export type MachineEvent = { type: string; at?: number; output?: unknown; error?: unknown };

/**
 * What the runtime needs to drive one kind of machine durably. The runner's loop (decide,
 * save, act) knows nothing of payouts: the payout machine is one `DurableMachine`
 * (`payoutDurableMachine`), and the server side of user-to-app payments will be another.
 */
export interface DurableMachine<Snapshot> {
  /** A stored snapshot made live again. */
  restore(persisted: unknown): Snapshot;
  /** The next snapshot after an event (the same object when nothing changes). */
  step(snapshot: Snapshot, event: MachineEvent): Snapshot;
  /** The effect the snapshot waits on, or undefined at rest. */
  pendingEffect(snapshot: Snapshot): PendingInvoke | undefined;
  /** The main state and the full state path, as the store and the journal keep them. */
  describe(snapshot: Snapshot): { state: string; detail: string };
  /** What a save writes for a snapshot, before secrets are scrubbed out. */
  write(snapshot: Snapshot, at: string): PayoutWrite;
  /** Whether this save must be synced to disk: a power cut must not undo it (see `SaveOptions.durable`). */
  mustSurvivePowerCut(previous: Snapshot, next: Snapshot): boolean;
  /** The slot scope a save of this snapshot frees (the runtime wakes its waiters), if any. */
  releasedSlot(snapshot: Snapshot): string | undefined;
  /**
   * The public, secret-free view of a stored record, as the journal keeps it with each step
   * for the event feed (and as `onSettled` receives it).
   */
  view(record: StoredPayout): JsonObject;
  /** A few facts about a step for the journal: ids, outcomes, codes; never a payload. */
  journalDetails(event: MachineEvent): Record<string, unknown>;
  /** Lets go of what an effect's result holds when it is not saved (never acted on). */
  discardOutput(output: unknown): void;
  /** Lets go of what a snapshot holds when this process stops driving it. */
  leave(snapshot: Snapshot): void;
  // biome-ignore lint/suspicious/noExplicitAny: effects of any declared input and output.
  effects: EffectImplementations<any>;
  /**
   * Effects that change nothing outside (waits, queues): a graceful stop cuts them short
   * instead of letting them finish and saving their result.
   */
  harmless: ReadonlySet<string>;
}
