import type Database from "better-sqlite3";
import { ValidationError } from "../domain/errors.js";

/**
 * The host's `tx` for a SQLite store, checked before anything is written: the store's own
 * database handle (a SQLite transaction belongs to one connection), inside an open
 * transaction (outside one, the host's rollback would not take the payout back).
 */
export function checkHostTransaction(tx: unknown, database: Database.Database): void {
  if (tx !== database) {
    throw new ValidationError(
      "Invalid tx: pass the store's own better-sqlite3 database (create the store with createSqliteStore({ database: yourDb }) and pass yourDb): a SQLite transaction belongs to one connection.",
      [{ path: "tx", message: "must be the store's own database handle" }],
      "INVALID_OPTIONS",
    );
  }
  if (!database.inTransaction) {
    throw new ValidationError(
      "Invalid tx: no transaction is open on the database: call enqueue(args, { tx: db }) inside db.transaction(() => …), or leave tx out.",
      [{ path: "tx", message: "must be inside an open transaction" }],
      "INVALID_OPTIONS",
    );
  }
}

/**
 * Refuses what a save's `within` returned if it is a promise: better-sqlite3 runs a
 * transaction synchronously, so work awaited inside would run after it ended.
 */
export function refuseAsync(result: unknown): void {
  if (typeof (result as PromiseLike<unknown> | undefined)?.then !== "function") return;
  throw new ValidationError(
    "onSettled returned a promise on a SQLite store: its work would run outside the transaction, so the save was rolled back. On SQLite, do the host's write synchronously with the better-sqlite3 handle it is given.",
    [{ path: "onSettled", message: "must be synchronous on a SQLite store" }],
    "INVALID_OPTIONS",
  );
}
