import { inTransaction, type PostgresPool } from "./client.js";

/**
 * The schema's history, in order. Never edit an applied migration: add the next one.
 * JSON (intents, snapshots, journal details) is stored as text so that it comes back byte
 * for byte, and so that no value jsonb refuses (a `\u0000`) can make a save fail.
 */
export function migrations(schema: string): string[] {
  const s = quote(schema);
  return [
    `CREATE TABLE ${s}.payouts (
       key text PRIMARY KEY,
       intent text NOT NULL,
       state text NOT NULL,
       state_detail text NOT NULL,
       snapshot text NOT NULL,
       version integer NOT NULL,
       payment_id text,
       txid text,
       settled boolean NOT NULL,
       created_at timestamptz NOT NULL,
       updated_at timestamptz NOT NULL,
       lease_owner text,
       lease_expires_at timestamptz
     );
     CREATE INDEX payouts_unsettled ON ${s}.payouts (created_at, key) WHERE NOT settled;
     CREATE INDEX payouts_payment_id ON ${s}.payouts (payment_id);
     CREATE INDEX payouts_state ON ${s}.payouts (state, key);
     CREATE TABLE ${s}.journal (
       seq bigserial PRIMARY KEY,
       key text NOT NULL,
       at timestamptz NOT NULL,
       from_state text,
       to_state text NOT NULL,
       event text NOT NULL,
       details text NOT NULL,
       version integer NOT NULL,
       owner text
     );
     CREATE INDEX journal_key ON ${s}.journal (key, seq);
     CREATE TABLE ${s}.slots (scope text PRIMARY KEY, key text NOT NULL);`,
    // 2. Keys order and compare bytewise whatever the database's collation (ICU en-US on
    // many managed services): paging by `key > $n ORDER BY key` must agree with itself. The
    // primary key's index is rebuilt in "C", so both use it without a per-query COLLATE.
    `ALTER TABLE ${s}.payouts ALTER COLUMN key TYPE text COLLATE "C";
     ALTER TABLE ${s}.journal ALTER COLUMN key TYPE text COLLATE "C";
     ALTER TABLE ${s}.slots ALTER COLUMN key TYPE text COLLATE "C";`,
    // 3. Whether a payout may hold its slot. Rows from before: a completed or cancelled payout
    // has no open Pi payment; any other may have one, so it keeps what it holds. No default
    // after the backfill: every write says.
    `ALTER TABLE ${s}.payouts ADD COLUMN holds_slot boolean NOT NULL DEFAULT true;
     UPDATE ${s}.payouts SET holds_slot = false WHERE state IN ('completed', 'cancelled');
     ALTER TABLE ${s}.payouts ALTER COLUMN holds_slot DROP DEFAULT;`,
    // 4. Paging through unsettled payouts by key without a sort; finding a runner's leases
    // without a scan. Partial, so they hold only the few rows they serve; the second leaves
    // lease_expires_at out so that renewing a lease stays a HOT update.
    `CREATE INDEX payouts_unsettled_key ON ${s}.payouts (key) WHERE NOT settled;
     CREATE INDEX payouts_lease_owner ON ${s}.payouts (lease_owner) WHERE lease_owner IS NOT NULL;`,
    // 5. The event feed: each journal line keeps the payout as of its step (secret-free);
    // named consumers keep a cursor and a lease; dead letters keep what a consumer gave up
    // on. A payout remembers an onSettled hook that refused its last step.
    // `seq` (bigserial) is taken at insert, not at commit: a line can commit after one with
    // a higher seq, and a cursor on seq would skip it. `feed_seq` is the line's place in the
    // feed, given after commit by one sequencer at a time (see feed.ts): commit-safe order.
    `ALTER TABLE ${s}.journal ADD COLUMN view text;
     ALTER TABLE ${s}.journal ADD COLUMN feed_seq bigint;
     UPDATE ${s}.journal SET feed_seq = seq;
     CREATE UNIQUE INDEX journal_feed_seq ON ${s}.journal (feed_seq);
     CREATE INDEX journal_unsequenced ON ${s}.journal (seq) WHERE feed_seq IS NULL;
     ALTER TABLE ${s}.payouts ADD COLUMN hook_failure text;
     CREATE TABLE ${s}.consumers (
       name text COLLATE "C" PRIMARY KEY,
       cursor bigint NOT NULL,
       owner text,
       lease_expires_at timestamptz,
       updated_at timestamptz NOT NULL
     );
     CREATE TABLE ${s}.dead_letters (
       id bigserial PRIMARY KEY,
       consumer text COLLATE "C" NOT NULL,
       seq bigint NOT NULL,
       attempts integer NOT NULL,
       error text NOT NULL,
       at timestamptz NOT NULL,
       UNIQUE (consumer, seq)
     );`,
  ];
}

/** Quotes an identifier for SQL. */
export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * Applies the migrations not yet applied, under an advisory lock so that processes
 * starting together do not race. Returns the versions it applied.
 */
export async function migrate(pool: PostgresPool, schema: string): Promise<number[]> {
  const s = quote(schema);
  return inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`pi-payments:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${s}.migrations`);
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const [index, sql] of migrations(schema).entries()) {
      const version = index + 1;
      if (done.has(version)) continue;
      for (const statement of sql
        .split(";")
        .map((part) => part.trim())
        .filter(Boolean))
        await client.query(statement);
      await client.query(`INSERT INTO ${s}.migrations (version) VALUES ($1)`, [version]);
      applied.push(version);
    }
    return applied;
  });
}
