// 4. Recovery: time for resume() to take up N unfinished payouts; memory per payout in flight.
import { createPayouts } from "pi-payments";
import { startSandbox } from "pi-payments/sandbox";
import { createSqliteStore } from "pi-payments/sqlite";
import { connection, sleep } from "../lib.mjs";
import { NO_POSTGRES, postgresStore, sqlitePath } from "../stores.mjs";

/** 4. Recovery: time for resume() to take up N unfinished payouts; memory per payout in flight. */
export async function recovery(count) {
  const results = {};
  const stores = {
    sqlite: async () => {
      const path = sqlitePath("recovery");
      return {
        make: () => createSqliteStore({ path }),
        drop: async () => {},
      };
    },
    postgres: async () => {
      const made = await postgresStore();
      if (!made) return undefined;
      return { make: () => made.store, drop: made.drop, shared: true };
    },
  };
  for (const [name, open] of Object.entries(stores)) {
    const opened = await open();
    if (!opened) {
      results[name] = NO_POSTGRES;
      continue;
    }
    // Ledgers do not close: payouts stay in flight while we look.
    const sandbox = await startSandbox({ ledgerIntervalMs: "manual", users: 1 });
    const seeding = createPayouts({ ...connection(sandbox), store: opened.make() });
    for (let i = 0; i < count; i++) {
      await seeding.enqueue({
        key: `r-${String(i).padStart(5, "0")}`,
        uid: sandbox.users[0].uid,
        amount: 1,
        memo: "m",
      });
    }
    await seeding.close();
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const payouts = createPayouts({
      ...connection(sandbox),
      store: opened.make(),
      slotPollMs: 1000,
      leaseMs: 600_000,
    });
    const started = performance.now();
    await payouts.resume({ wait: false });
    while (payouts.active().length < count) await sleep(5);
    const tookUpMs = performance.now() - started;
    await sleep(200);
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    results[name] = {
      payouts: count,
      resumeMs: tookUpMs,
      perPayoutUs: (tookUpMs * 1000) / count,
      memoryPerPayoutKiB: (heapAfter - heapBefore) / 1024 / count,
    };
    await payouts.close({ abandon: true });
    await sandbox.close();
    await opened.drop();
  }
  return results;
}
