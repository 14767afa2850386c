import { ValidationError } from "../../domain/errors.js";
import type { Queryable } from "./client.js";

/**
 * The host's `tx`, checked to be a client inside an open transaction: the payout must exist
 * if and only if the host commits, so a pool (each query on any connection, each committed
 * at once) or a client outside BEGIN is refused before anything is written.
 *
 * PostgreSQL has no "am I in a transaction block" function, but a savepoint exists only in
 * one: outside, SAVEPOINT fails with no_active_sql_transaction (25P01) and changes nothing;
 * inside, it is released at once. (Comparing statement_timestamp() with
 * transaction_timestamp() was tried first: on a fast server, PGlite in-process, BEGIN and
 * the check can fall in the same clock tick, and an open transaction looked closed.)
 */
export async function hostClient(tx: unknown): Promise<Queryable> {
  const candidate = tx as Partial<Queryable> & { totalCount?: unknown; release?: unknown };
  if (typeof candidate?.query !== "function") throw notAClient("is not a pg client");
  if (typeof candidate.totalCount === "number") throw notAClient("is a pool, not one client");
  const client = candidate as Queryable;
  try {
    await client.query("SAVEPOINT pi_payments_host_check");
  } catch (error) {
    if ((error as { code?: string }).code === NO_ACTIVE_SQL_TRANSACTION) {
      throw notAClient("has no open transaction (BEGIN first)");
    }
    throw error;
  }
  await client.query("RELEASE SAVEPOINT pi_payments_host_check");
  return client;
}

/** SQLSTATE of a statement that needs a transaction block run outside one. */
const NO_ACTIVE_SQL_TRANSACTION = "25P01";

function notAClient(why: string): ValidationError {
  return new ValidationError(
    `Invalid tx: it ${why}: pass the pg client your transaction runs on (a PoolClient after BEGIN).`,
    [{ path: "tx", message: "must be a pg client inside a transaction" }],
    "INVALID_OPTIONS",
  );
}
