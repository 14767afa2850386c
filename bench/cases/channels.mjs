// 2. Channel accounts under the per-user rule, one transaction per account per ledger.
import { createPayouts } from "pi-payments";
import { createMemoryStore } from "pi-payments/memory";
import { benchSandbox, channelsFor, connection, perLedger } from "../lib.mjs";
import { runtimeOptions } from "../stores.mjs";

/** 2. Channel accounts under the per-user rule, with one transaction per account per ledger. */
export async function channels(counts, payoutsPerChannel) {
  const results = {};
  for (const n of counts) {
    const total = n * payoutsPerChannel;
    const sandbox = await benchSandbox({
      users: total,
      incompleteLimit: "user",
      oneTransactionPerAccountPerLedger: true,
    });
    const payouts = createPayouts({
      ...connection(sandbox),
      store: createMemoryStore(),
      incompleteLimit: "user",
      channels: channelsFor(sandbox, n),
      ...runtimeOptions,
    });
    const since = sandbox.chain.latest.sequence;
    await Promise.all(
      sandbox.users.map((u, i) =>
        payouts.pay({ key: `c-${i}`, uid: u.uid, amount: 1, memo: "bench" }),
      ),
    );
    results[`${n} channel${n > 1 ? "s" : ""}`] = { ...perLedger(sandbox, since), channels: n };
    await payouts.close();
    await sandbox.close();
  }
  // Without channels, the same rule: the wallet's one sequence binds.
  const sandbox = await benchSandbox({
    users: 3 * payoutsPerChannel,
    incompleteLimit: "user",
    oneTransactionPerAccountPerLedger: true,
  });
  const payouts = createPayouts({
    ...connection(sandbox),
    store: createMemoryStore(),
    incompleteLimit: "user",
    ...runtimeOptions,
  });
  const since = sandbox.chain.latest.sequence;
  await Promise.all(
    sandbox.users.map((u, i) =>
      payouts.pay({ key: `n-${i}`, uid: u.uid, amount: 1, memo: "bench" }),
    ),
  );
  results["no channels"] = { ...perLedger(sandbox, since), channels: 0 };
  await payouts.close();
  await sandbox.close();
  return results;
}
