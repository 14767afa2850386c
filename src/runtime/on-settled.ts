import { ValidationError } from "../domain/errors.js";
import type { PayoutStore } from "../storage/types.js";
import type { OnSettled } from "./options.js";
import type { Payout } from "./payout-view.js";
import type { RestHook } from "./runner-types.js";

/**
 * The runner's rest hook for the host's `onSettled`, checked against the store: it needs a
 * store whose transactions the host can share, and on SQLite a synchronous function (an
 * async one would do its work after the transaction ended).
 * @throws ValidationError `INVALID_OPTIONS` naming `onSettled`
 */
export function onSettledHook(
  onSettled: OnSettled | undefined,
  store: PayoutStore,
): RestHook | undefined {
  if (onSettled === undefined) return undefined;
  if (store.hostTransactions === false) {
    throw new ValidationError(
      `Invalid payouts options: onSettled: needs a SQL store (SQLite or PostgreSQL) to run inside its transaction; the ${store.name} store has none.`,
      [{ path: "onSettled", message: "needs a SQL store" }],
      "INVALID_OPTIONS",
    );
  }
  if (store.hostTransactions === "sync" && onSettled.constructor.name === "AsyncFunction") {
    throw new ValidationError(
      "Invalid payouts options: onSettled: must be synchronous on SQLite (better-sqlite3 transactions cannot await); write with the handle it is given, without await.",
      [{ path: "onSettled", message: "must be synchronous on a SQLite store" }],
      "INVALID_OPTIONS",
    );
  }
  return (view, tx) => onSettled(view as unknown as Payout, tx);
}
