/**
 * The SQLite schema's history, in order; `PRAGMA user_version` records how many were
 * applied. Never edit an applied migration: add the next one.
 */
export const sqliteMigrations: readonly string[] = [
  `CREATE TABLE payouts (
     key TEXT PRIMARY KEY,
     intent TEXT NOT NULL,
     state TEXT NOT NULL,
     state_detail TEXT NOT NULL,
     snapshot TEXT NOT NULL,
     version INTEGER NOT NULL,
     payment_id TEXT,
     txid TEXT,
     settled INTEGER NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     lease_owner TEXT,
     lease_expires_at INTEGER
   );
   CREATE INDEX payouts_unsettled ON payouts (settled, created_at);
   CREATE INDEX payouts_payment_id ON payouts (payment_id);
   CREATE INDEX payouts_state ON payouts (state, key);
   CREATE TABLE journal (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     key TEXT NOT NULL,
     at TEXT NOT NULL,
     from_state TEXT,
     to_state TEXT NOT NULL,
     event TEXT NOT NULL,
     details TEXT NOT NULL,
     version INTEGER NOT NULL,
     owner TEXT
   );
   CREATE INDEX journal_key ON journal (key, seq);
   CREATE TABLE slots (scope TEXT PRIMARY KEY, key TEXT NOT NULL);`,
  // 2. Whether a payout may hold its slot. Rows from before: a completed or cancelled payout
  // has no open Pi payment; any other may have one, so it keeps what it holds.
  `ALTER TABLE payouts ADD COLUMN holds_slot INTEGER NOT NULL DEFAULT 1;
   UPDATE payouts SET holds_slot = 0 WHERE state IN ('completed', 'cancelled');`,
  // 3. Paging through unsettled payouts by key without a sort; finding a runner's leases
  // without a scan. Partial, so they hold only the few rows they serve. `settled` leads the
  // first one although constant: without statistics, SQLite's planner prefers the index that
  // matches more terms, and would take payouts_unsettled (settled, created_at) and sort.
  `CREATE INDEX payouts_unsettled_key ON payouts (settled, key) WHERE settled = 0;
   CREATE INDEX payouts_lease_owner ON payouts (lease_owner) WHERE lease_owner IS NOT NULL;`,
  // 4. The event feed: each journal line keeps the payout as of its step (secret-free);
  // named consumers keep a cursor and a lease; dead letters keep what a consumer gave up on.
  // A payout remembers an onSettled hook that refused its last step.
  `ALTER TABLE journal ADD COLUMN view TEXT;
   ALTER TABLE payouts ADD COLUMN hook_failure TEXT;
   CREATE TABLE consumers (
     name TEXT PRIMARY KEY,
     cursor INTEGER NOT NULL,
     owner TEXT,
     lease_expires_at INTEGER,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE dead_letters (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     consumer TEXT NOT NULL,
     seq INTEGER NOT NULL,
     attempts INTEGER NOT NULL,
     error TEXT NOT NULL,
     at TEXT NOT NULL,
     UNIQUE (consumer, seq)
   );`,
  // 5. How far the journal is known synced to disk: the feed hands out no line a power cut
  // could undo (see createSqliteFeed), and its read syncs by writing this one row.
  // IF NOT EXISTS: a file opened by an older release (which writes its own user_version)
  // and then by this one again runs this step twice.
  `CREATE TABLE IF NOT EXISTS feed_sync (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     synced_through INTEGER NOT NULL
   );
   INSERT OR IGNORE INTO feed_sync (id, synced_through) VALUES (1, 0);`,
];
