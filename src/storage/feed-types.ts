import type { JournalEntry } from "./types.js";

/** A named consumer of the journal, as stored: its cursor and who holds it. */
export interface ConsumerState {
  name: string;
  /** The position of the last journal line it acknowledged (0: none yet). */
  cursor: number;
  /** The process that holds it, live or expired; null when released. */
  owner: string | null;
  /** When the holder's lease ends, ISO 8601 (it may already have); null when released. */
  leaseExpiresAt: string | null;
  updatedAt: string;
}

/** A journal line a consumer gave up on (a webhook that kept failing), kept for a person. */
export interface DeadLetter {
  /** Store-wide id, for `pi-payments events redeliver <id>`. */
  id: number;
  /** The consumer that gave up. */
  consumer: string;
  /** The journal line's position (the event's `seq`). */
  seq: number;
  /** Deliveries tried. */
  attempts: number;
  /** The last failure, one line, secret-free. */
  error: string;
  at: string;
}

/**
 * The journal read as an outbox: store-wide, in `seq` order, and a durable cursor per named
 * consumer with a lease (one active holder per name across processes).
 *
 * Order: lines are read by `position`, their place in commit order (SQLite and the memory
 * store write one step at a time, so it is `seq`; PostgreSQL numbers lines just after they
 * commit), so a reader that has seen position n never later finds a line below n.
 */
export interface FeedStore {
  /**
   * Journal lines with `position > after`, in position order, at most `limit`. Only lines a
   * power cut cannot undo: a store that commits without syncing syncs first (SQLite), so a
   * line's position never later names another line.
   */
  readJournal(after: number, limit: number): Promise<JournalEntry[]>;
  /** The newest line's position (0 when the journal is empty). */
  lastPosition(): Promise<number>;
  /**
   * Takes consumer `name`'s lease for `owner` if it is free, expired or already `owner`'s,
   * creating the consumer with its cursor at 0 (`from: "start"`) or at the newest line
   * (`"now"`). Returns its cursor, or undefined while another holds it.
   */
  claimConsumer(
    name: string,
    owner: string,
    ttlMs: number,
    from: "start" | "now",
  ): Promise<{ cursor: number } | undefined>;
  /**
   * Moves the cursor to `cursor` (never back) and renews the lease, if `owner` holds it live.
   * @returns false when the lease was lost (another holder may have taken over)
   */
  ackConsumer(name: string, owner: string, cursor: number, ttlMs: number): Promise<boolean>;
  /** Gives `owner`'s lease on the consumer up (a no-op if another holds it). */
  releaseConsumer(name: string, owner: string): Promise<void>;
  /** Every consumer, by name. */
  consumers(): Promise<ConsumerState[]>;
  /** Keeps a line a consumer gave up on (once per consumer and line). */
  addDeadLetter(letter: Omit<DeadLetter, "id" | "at"> & { at: string }): Promise<DeadLetter>;
  /** Dead letters, oldest first, of one consumer or all. */
  deadLetters(consumer?: string): Promise<DeadLetter[]>;
  /** Removes a dead letter (redelivered); true if it existed. */
  removeDeadLetter(id: number): Promise<boolean>;
}
