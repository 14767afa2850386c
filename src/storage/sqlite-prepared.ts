import type Database from "better-sqlite3";

/** A transaction's body. What varies between calls comes in as arguments (see below). */
export type TransactionBody = (...args: never[]) => unknown;

/** A connection's statements and transactions, each made once and reused. */
export interface SqlitePrepared {
  /** The statement for `text`: preparing one costs about as much as running it. */
  sql(text: string): Database.Statement;
  /**
   * The transaction running `body`, made once per body: better-sqlite3 wraps a body in four
   * functions and defines their properties, which costs three times what running a short
   * transaction does (about 4 µs and 2 KB each, six a payout). So a body must be a function
   * made once, taking what varies as arguments, not a closure made per call.
   */
  transaction<F extends TransactionBody>(body: F): Database.Transaction<F>;
  /** The connection was closed (or failed to open): what was made for it is dropped. */
  forget(): void;
}

/** The statements and transactions of the connection `open` returns (opening it if needed). */
export function preparedOnce(open: () => Database.Database): SqlitePrepared {
  let statements = new Map<string, Database.Statement>();
  let transactions = new Map<TransactionBody, Database.Transaction<TransactionBody>>();
  return {
    sql(text) {
      let statement = statements.get(text);
      if (!statement) {
        statement = open().prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
    transaction<F extends TransactionBody>(body: F) {
      let made = transactions.get(body);
      if (!made) {
        made = open().transaction(body);
        transactions.set(body, made);
      }
      return made as unknown as Database.Transaction<F>;
    },
    forget() {
      statements = new Map();
      transactions = new Map();
    },
  };
}
