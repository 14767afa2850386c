// 1. Payouts per ledger: pay() and a fleet against the official SDK, per app and per user.
import { join } from "node:path";
import { createPayouts, createWorker } from "pi-payments";
import { createMemoryStore } from "pi-payments/memory";
import { createSqliteStore } from "pi-payments/sqlite";
import { benchSandbox, connection, officialSdkPays, perLedger, sleep } from "../lib.mjs";
import { runtimeOptions, workdir } from "../stores.mjs";

/** 1. Payouts per ledger: pay() and a fleet against the official SDK's algorithm, per app and per user. */
export async function throughput(count) {
  const results = {};
  for (const rule of ["app", "user"]) {
    // Ours: every payout asked at once; they queue for Pi's slot.
    {
      const sandbox = await benchSandbox({ users: count, incompleteLimit: rule });
      const payouts = createPayouts({
        ...connection(sandbox),
        store: createMemoryStore(),
        incompleteLimit: rule,
        ...runtimeOptions,
      });
      const since = sandbox.chain.latest.sequence;
      await Promise.all(
        sandbox.users.map((u, i) =>
          payouts.pay({ key: `t-${i}`, uid: u.uid, amount: 1, memo: "bench" }),
        ),
      );
      results[`pay() per ${rule}`] = perLedger(sandbox, since);
      await payouts.close();
      await sandbox.close();
    }
    // A fleet: two runtimes (two "instances") working one SQLite store.
    {
      const sandbox = await benchSandbox({ users: count, incompleteLimit: rule });
      const path = join(workdir, `fleet-${rule}.db`);
      const instances = [0, 1].map((i) =>
        createPayouts({
          ...connection(sandbox),
          store: createSqliteStore({ path }),
          incompleteLimit: rule,
          owner: `instance-${i}`,
          ...runtimeOptions,
        }),
      );
      const since = sandbox.chain.latest.sequence;
      for (const [i, u] of sandbox.users.entries())
        await instances[0].enqueue({ key: `f-${i}`, uid: u.uid, amount: 1, memo: "bench" });
      const workers = instances.map((p) => createWorker(p, { concurrency: count }));
      while (sandbox.payments().filter((p) => p.status.developer_completed).length < count)
        await sleep(50);
      results[`fleet of 2 per ${rule}`] = perLedger(sandbox, since);
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(instances.map((p) => p.close()));
      await sandbox.close();
    }
    // The official SDK, one payout at a time.
    {
      const sandbox = await benchSandbox({ users: count, incompleteLimit: rule });
      const since = sandbox.chain.latest.sequence;
      await officialSdkPays(
        sandbox,
        sandbox.users.map((u) => u.uid),
      );
      results[`official SDK per ${rule}`] = perLedger(sandbox, since);
      await sandbox.close();
    }
  }
  return results;
}
