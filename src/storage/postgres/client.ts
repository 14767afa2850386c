/** The result of one query: the subset of `pg`'s result the store reads. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number | null;
}

/** Something that runs a parameterised query (a pool, or a checked-out client). */
export interface Queryable {
  /** Runs one statement with `$1`-style parameters. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
}

/** A client checked out of a pool. */
export interface PooledClient extends Queryable {
  /** Gives the client back (with an error: drops it). */
  release(error?: Error | boolean): void;
}

/**
 * The part of a `pg.Pool` the store uses: queries, and a client checked out for a
 * transaction. A `pg.Pool` fits as is; so can any pool with the same two methods.
 */
export interface PostgresPool extends Queryable {
  /** Checks a client out for a transaction; `release` gives it back. */
  connect(): Promise<PooledClient>;
  /** Closes the pool. */
  end?(): Promise<void>;
}

/** Runs `work` in a transaction on one checked-out client; rolls back if it throws. */
export async function inTransaction<T>(
  pool: PostgresPool,
  work: (client: Queryable) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    client.release();
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    client.release(error instanceof Error ? error : true);
    throw error;
  }
}
