import { randomBytes } from "node:crypto";
import pg from "pg";
import { parseAmount } from "../../src/domain/amount.js";
import type { PersistedPayoutSnapshot } from "../../src/machines/step.js";
import type { PostgresPool } from "../../src/storage/postgres.js";
import type { JournalInput, NewPayout, PayoutWrite } from "../../src/storage/types.js";

export const pgUrl = process.env.PI_PAYMENTS_TEST_PG_URL;

export const write = (detail: string, extra: Partial<PayoutWrite> = {}): PayoutWrite => ({
  snapshot: {
    status: "active",
    value: detail,
    context: {},
    children: {},
  } as unknown as PersistedPayoutSnapshot,
  state: detail.split(".")[0] as PayoutWrite["state"],
  stateDetail: detail,
  paymentId: null,
  txid: null,
  atRest: false,
  holdsSlot: true,
  at: "2026-12-01T10:00:00.000Z",
  ...extra,
});

export const newPayout = (key: string): NewPayout => ({
  key,
  intent: { uid: "u", amount: parseAmount("1"), memo: "m", metadata: {} },
  write: write("created.queued"),
});

export const line = (from: string | null, to: string, event: string): JournalInput => ({
  at: "2026-12-01T10:00:00.000Z",
  from,
  to,
  event,
  details: { note: event },
  owner: "adv",
  view: null,
});

/** A fresh schema name and pools on the real server; dropped by cleanup. */
export function pgSchema(poolCount: number, max = 6) {
  const schema = `adv_${randomBytes(6).toString("hex")}`;
  const pools = Array.from(
    { length: poolCount },
    () => new pg.Pool({ connectionString: pgUrl, max }),
  );
  return {
    schema,
    pools,
    asPool: (p: pg.Pool) => p as unknown as PostgresPool,
    cleanup: async () => {
      await pools[0]!.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all(pools.map((p) => p.end()));
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
