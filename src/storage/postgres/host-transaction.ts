import { ValidationError } from "../../domain/errors.js";
import type { Queryable } from "./client.js";

/**
 * The host's `tx`, checked to be a client inside an open transaction: the payout must exist
 * if and only if the host commits, so a pool (each query on any connection, each committed
 * at once) or a client outside BEGIN is refused before anything is written.
 *
 * PostgreSQL has no "am I in a transaction block" function. Outside one, every statement is
 * its own transaction, so its `statement_timestamp()` equals `transaction_timestamp()`;
 * inside one, the transaction started with an earlier statement (BEGIN, sent in its own
 * round trip), so they differ.
 */
export async function hostClient(tx: unknown): Promise<Queryable> {
  const candidate = tx as Partial<Queryable> & { totalCount?: unknown; release?: unknown };
  if (typeof candidate?.query !== "function") throw notAClient("is not a pg client");
  if (typeof candidate.totalCount === "number") throw notAClient("is a pool, not one client");
  const client = candidate as Queryable;
  const { rows } = await client.query<{ outside: boolean }>(
    "SELECT statement_timestamp() = transaction_timestamp() AS outside",
  );
  if (rows[0]?.outside) throw notAClient("has no open transaction (BEGIN first)");
  return client;
}

function notAClient(why: string): ValidationError {
  return new ValidationError(
    `Invalid tx: it ${why}: pass the pg client your transaction runs on (a PoolClient after BEGIN).`,
    [{ path: "tx", message: "must be a pg client inside a transaction" }],
    "INVALID_OPTIONS",
  );
}
