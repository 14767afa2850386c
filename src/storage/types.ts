import type { SerializedError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json.js";
import type { PersistedPayoutSnapshot } from "../machines/step.js";
import type { PayoutIntent, PayoutState } from "../machines/types.js";
import type { FeedStore } from "./feed-types.js";

/** A payout as stored. */
export interface StoredPayout {
  /** The caller's idempotency key. */
  key: string;
  intent: PayoutIntent;
  /** Main state (the lifecycle contract). */
  state: PayoutState;
  /** Full state path, e.g. `submitted.waiting`. */
  stateDetail: string;
  snapshot: PersistedPayoutSnapshot;
  /** Incremented by every save; saves are compare-and-set on it. */
  version: number;
  paymentId: string | null;
  txid: string | null;
  /** At rest: nothing for a runtime to do (completed, cancelled, or failed waiting for a person). */
  atRest: boolean;
  /** Whether it may hold its scope's slot, as last written ({@link PayoutWrite.holdsSlot}). */
  holdsSlot: boolean;
  /** Its lease as stored, live or expired (on the store's clock); null if it has none. */
  lease: PayoutLease | null;
  /** The host's `onSettled` hook refused to commit this payout's last step; null otherwise. */
  hookFailure: HookFailure | null;
  createdAt: string;
  updatedAt: string;
}

/** A runner's lease on a payout, as stored. */
export interface PayoutLease {
  /** The runner (process) that holds or held it. */
  owner: string;
  /** When it ends, ISO 8601; it may already have. */
  expiresAt: string;
}

/**
 * The host's `onSettled` hook threw inside the save that would have brought the payout to
 * rest: that save was rolled back, and is tried again (the effect before it is repeatable).
 */
export interface HookFailure {
  /** Failed attempts in a row. */
  attempts: number;
  /** What the hook threw, secret-free. */
  error: SerializedError;
  /** When it last failed, ISO 8601. */
  at: string;
  /** When the next attempt starts, ISO 8601. */
  nextAttemptAt: string;
}

/** What one save writes. */
export interface PayoutWrite {
  snapshot: PersistedPayoutSnapshot;
  state: PayoutState;
  stateDetail: string;
  paymentId: string | null;
  txid: string | null;
  /** At rest: no runner needs to drive it (stored in the `settled` column). */
  atRest: boolean;
  /**
   * Whether the payout may hold its scope's slot in this state: false once its Pi payment
   * can no longer be open (completed, cancelled, or failed with the payment cancelled).
   * `acquireSlot` refuses a payout written with false, and takes a slot over from one.
   */
  holdsSlot: boolean;
  /** Runtime time of the change, ISO 8601. */
  at: string;
  /** Set only by the save that records an `onSettled` failure; every other save clears it. */
  hookFailure?: HookFailure | null;
  /**
   * `snapshot` as JSON text, exactly `JSON.stringify(snapshot)`, when the runtime made it
   * already (it serialises every snapshot once to check it for secrets): a store writes this
   * text instead of serialising the snapshot a second time. A store must not require it.
   */
  snapshotJson?: string;
}

/** One line of a payout's audit trail. Never holds a secret. */
export interface JournalEntry {
  /** Store-wide, unique, in insert order (a payout's lines in the order of its steps). */
  seq: number;
  /**
   * The line's place in the event feed: commit order, so that a cursor never skips a line
   * that committed late. Equal to `seq` on SQLite and in memory; on PostgreSQL given just
   * after commit, null until then.
   */
  position: number | null;
  key: string;
  /** Runtime time, ISO 8601. */
  at: string;
  /** State path before (null for the first entry). */
  from: string | null;
  /** State path after. */
  to: string;
  /** What caused it: `PAY`, `CANCEL`, `RETRY`, `createPiPayment.done`, `submitTransaction.error`… */
  event: string;
  /** A few facts about the step (ids, codes), never a secret. */
  details: Record<string, unknown>;
  /** The payout's version after the step. */
  version: number;
  /** The runner (process) that made the step. */
  owner: string | null;
  /**
   * The payout as of this step, secret-free, as the event feed hands it on (the public
   * view, without `blockedBy`). Null on lines written before the feed existed.
   */
  view: JsonObject | null;
}

/** A journal line as the runtime writes it. */
export type JournalInput = Omit<JournalEntry, "seq" | "position" | "key" | "version" | "view"> & {
  view?: JsonObject | null;
};

/** What `list()` filters on. */
export interface ListFilter {
  state?: PayoutState | readonly PayoutState[];
  /** Only payouts at rest (true), or still to be driven (false). */
  atRest?: boolean;
  /** @default 100 */
  limit?: number;
  /** Only keys after this one in UTF-8 byte order (paging, with the order by key). */
  afterKey?: string;
}

/** Fencing and slot release done in the same atomic step as a save. */
export interface SaveOptions {
  /** Refuse the save unless this owner holds a live lease on the payout (stale-writer safety). */
  owner?: string;
  /** Release this slot if the payout holds it. */
  releaseSlot?: string;
  /** Give the lease up in the same step (the payout rests: nobody needs to drive it). */
  release?: boolean;
  /**
   * Runs inside the save's transaction, after its writes: the host's own write commits with
   * the save or not at all, and a throw rolls the save back. `tx` is the store's
   * transaction handle ({@link PayoutStore.hostTransactions}); on a "sync" store the
   * function must not return a promise.
   */
  within?: (tx: unknown) => void | Promise<void>;
  /**
   * This save must survive a power cut before the call resolves: what it leads to cannot be
   * taken back (a signed envelope about to be sent, a cancel promised). A store whose every
   * commit is durable needs nothing more; one that delays syncing (SQLite's default
   * durability) syncs this one.
   */
  durable?: boolean;
}

/** How a payout is created. */
export interface CreateOptions {
  /** Inserted already leased to `owner` (saving the claim's write). */
  lease?: { owner: string; ttlMs: number };
  /**
   * The scope of Pi's one-incomplete-payment slot to take in the same write, if nobody holds
   * it (no takeover here: a leaked slot is `acquireSlot`'s to take over), and only for a new
   * payout whose first write may hold a slot. The payout's first step then finds the slot
   * its own and writes nothing for it (a write saved per payout). A store may ignore it: the
   * slot is then taken by `acquireSlot`, as for any payout.
   */
  slot?: string;
  /**
   * The host's open transaction to insert in, on an "async" store (see
   * {@link PayoutStore.hostTransactions}): the payout exists if and only if the host
   * commits. A "sync" store takes the host's transaction through `createWithin`.
   */
  tx?: unknown;
}

/** What `create` stores: a new payout's key, intent and first snapshot. */
export interface NewPayout {
  key: string;
  intent: PayoutIntent;
  write: PayoutWrite;
}

/**
 * Where payouts live. Every method is atomic; implementations pass the shared contract
 * suite (`payoutStoreContract` from `pi-payments/testing`, src/testing/payout-store-contract.ts).
 *
 * Keys compare bytewise (UTF-8 byte order, which is code-point order) in every method,
 * whatever the database's collation: paging by `afterKey` relies on it.
 *
 * Leases give one runner per payout across processes; slots give one open Pi payment
 * per scope (Pi's one-incomplete-payment rule). Leases use the store's own clock.
 */
export interface PayoutStore extends FeedStore {
  readonly name: string;
  /**
   * Whether the host can share the store's transactions (`onSettled`, `enqueue({ tx })`):
   * `"sync"` (SQLite: the handle is the better-sqlite3 database, work inside is synchronous),
   * `"async"` (PostgreSQL: a client inside the transaction), or false (memory).
   */
  readonly hostTransactions: "sync" | "async" | false;
  /**
   * Inserts a payout with its first journal line, or returns the existing one with that key.
   * Durable when it resolves (see {@link SaveOptions.durable}): an intent accepted is never
   * lost (inside the host's `tx`, durable once the host commits).
   */
  create(
    payout: NewPayout,
    entry: JournalInput,
    options?: CreateOptions,
  ): Promise<{ created: boolean; payout: StoredPayout }>;
  /**
   * A "sync" store's `create` inside the host's open transaction `tx` (its own database
   * handle): done when it returns, and a refusal throws there, so that the host's
   * synchronous transaction function rolls back with it. Committed (and synced) with the
   * host's commit or not at all.
   */
  createWithin?(
    tx: unknown,
    payout: NewPayout,
    entry: JournalInput,
  ): { created: boolean; payout: StoredPayout };
  /**
   * Saves a new snapshot if the stored version is `expectedVersion` (and the lease, when
   * `owner` is given, is live and held by it), appending the journal line in the same step.
   * @throws ConflictError otherwise
   */
  save(
    key: string,
    expectedVersion: number,
    write: PayoutWrite,
    entry: JournalInput,
    options?: SaveOptions,
  ): Promise<StoredPayout>;
  /** The payout with this key, if any. */
  get(key: string): Promise<StoredPayout | undefined>;
  /** The payout that holds this Pi payment id, if any. */
  findByPaymentId(paymentId: string): Promise<StoredPayout | undefined>;
  /** Payouts in key order (UTF-8 bytes). */
  list(filter?: ListFilter): Promise<StoredPayout[]>;
  /** A payout's journal, oldest first. */
  journal(key: string): Promise<JournalEntry[]>;
  /** Takes the payout's lease if it is free, expired, or already `owner`'s. */
  claim(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Leases the oldest unsettled payout nobody holds, skipping `exclude`; undefined if none. */
  claimNext(
    owner: string,
    ttlMs: number,
    exclude?: readonly string[],
  ): Promise<StoredPayout | undefined>;
  /** Extends every live lease of `owner` in one step; returns the keys it still holds. */
  renewAll(owner: string, ttlMs: number): Promise<string[]>;
  /** Gives `owner`'s lease up (a no-op if another holds it). */
  release(key: string, owner: string): Promise<void>;
  /**
   * Moves every lease `from` holds, live or expired, to `to` with a fresh expiry of
   * `ttlMs`, in one step; returns their keys. For a runner that provably died.
   */
  takeOver(from: string, to: string, ttlMs: number): Promise<string[]>;
  /** The owners of live leases, each once, in no particular order. */
  leaseOwners(): Promise<string[]>;
  /**
   * Takes the slot of a scope for payout `key`, in one step that no save of that payout
   * interleaves with; true if it now holds it (also when it already did). Refuses, taking
   * nothing, unless `key` is a payout whose `holdsSlot` is true. Takes the slot if free, or
   * over from a holder that is no payout or whose `holdsSlot` is false: a leaked slot heals.
   */
  acquireSlot(scope: string, key: string): Promise<boolean>;
  /** Frees the slot if `key` holds it. */
  releaseSlot(scope: string, key: string): Promise<void>;
  /** The key holding the slot of a scope as stored, if any (also one that may no longer). */
  slotHolder(scope: string): Promise<string | undefined>;
  /** Closes connections the store opened itself. */
  close(): Promise<void>;
}
