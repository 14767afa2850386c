import type Database from "better-sqlite3";

/**
 * How long the feed's sync waits for another process's write lock, in ms: a read must not
 * hold the event loop for the store's whole busy timeout. It hands out what is known synced.
 */
const FEED_SYNC_WAIT_MS = 50;

/** Which commits of a SQLite store reach the disk, and which journal lines are known there. */
export interface SqliteDurability {
  /**
   * Runs a write transaction whose commit is synced to disk when `durable` (WAL +
   * synchronous FULL for this commit; the connection goes back to NORMAL after, so other
   * steps pay no fsync). With `everyStep` every commit is synced anyway.
   */
  durably<T>(write: () => T, durable: boolean): T;
  /** The store appended journal line `seq` in the write now running. */
  appended(seq: number): void;
  /**
   * Makes the journal lines committed so far survive a power cut, and returns the newest seq
   * known to be on disk (see createSqliteFeed, which hands out no line above it).
   */
  syncJournal(): number;
  /** The store was closed: what was known synced was known of the file as it was. */
  forget(): void;
}

/** One SQLite connection's durability bookkeeping (see {@link SqliteDurability}). */
export function createSqliteDurability(deps: {
  open: () => Database.Database;
  sql: (text: string) => Database.Statement;
  everyStep: boolean;
  busyTimeoutMs: number;
}): SqliteDurability {
  const { open, sql, everyStep, busyTimeoutMs } = deps;
  /**
   * Journal lines up to this seq are known synced to disk: this connection appended them
   * before a commit it synced, or synced the journal for the feed, or read that another
   * connection did (the feed_sync row).
   */
  let syncedThrough = 0;
  /**
   * The seq of the line appended by the write `durably` is running, 0 before it appends.
   * Only a commit that appended a line surely wrote WAL frames (a create whose key exists
   * changes nothing, and SQLite then syncs nothing), so only such a commit marks lines synced.
   */
  let appendedNow = 0;

  const durably = <T>(write: () => T, durable: boolean): T => {
    if (!everyStep && !durable) return write();
    const database = open();
    // exec, not pragma(): pragma() prepares a statement and builds its result rows each
    // call (3 µs against under 1 µs, four a payout). A prepared PRAGMA cannot be kept
    // instead: SQLite applies some pragmas when it prepares them, not when they run.
    if (!everyStep) database.exec("PRAGMA synchronous = FULL");
    appendedNow = 0;
    try {
      const result = write();
      // Committed and synced: the WAL up to this line, and every line before it, is on disk.
      // (A write that threw rolled its line back; its seq may go to another line.)
      syncedThrough = Math.max(syncedThrough, appendedNow);
      return result;
    } finally {
      if (!everyStep) database.exec("PRAGMA synchronous = NORMAL");
    }
  };

  /**
   * A synced commit that raises the one feed_sync row syncs the WAL, and with it every
   * earlier commit, this process's and others'. No write when every line is known synced
   * already. The write waits for another process's write lock briefly only (it runs on the
   * event loop): when the file stays busy, the lines known synced are all a read hands out.
   */
  const syncJournal = (): number => {
    const { seq: newest } = sql("SELECT COALESCE(MAX(seq), 0) AS seq FROM journal").get() as {
      seq: number;
    };
    if (newest <= syncedThrough) return newest;
    const { synced_through: recorded } = sql(
      "SELECT synced_through FROM feed_sync WHERE id = 1",
    ).get() as { synced_through: number };
    syncedThrough = Math.max(syncedThrough, recorded);
    if (newest <= syncedThrough) return newest;
    const database = open();
    database.pragma(`busy_timeout = ${Math.min(FEED_SYNC_WAIT_MS, busyTimeoutMs)}`);
    try {
      // Always a change (recorded < newest): a frame is written, so the commit syncs.
      const update = sql("UPDATE feed_sync SET synced_through = ? WHERE id = 1");
      durably(() => update.run(newest), true);
      syncedThrough = newest;
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
    } finally {
      database.pragma(`busy_timeout = ${busyTimeoutMs}`);
    }
    return syncedThrough;
  };

  return {
    durably,
    appended: (seq) => {
      appendedNow = seq;
    },
    syncJournal,
    forget: () => {
      syncedThrough = 0;
    },
  };
}
