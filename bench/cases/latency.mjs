// 7. Latency from pay() to completed, against the official SDK's flow, under the same
// latencies and ledgers (bench/lib.mjs), one payout at a time.
import { createPayouts } from "pi-payments";
import { createSqliteStore } from "pi-payments/sqlite";
import { benchSandbox, connection, LEDGER_MS, officialSdkPays, sleep } from "../lib.mjs";
import { runtimeOptions, sqlitePath } from "../stores.mjs";

/**
 * When each payout starts: after a pause that puts it at a different point of the ledger's
 * cycle (the same pauses for both sides), so that neither side locks onto the closes.
 */
const pauses = (count) =>
  Array.from({ length: count }, (_, i) => Math.round(((i * 0.618034) % 1) * LEDGER_MS));

/** The p-th percentile (0–100) of `values`, nearest rank. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const summary = (ms) => ({ payouts: ms.length, p50: percentile(ms, 50), p99: percentile(ms, 99) });

/** Ours: pay() on the default store (SQLite on disk), every payout timed to `completed`. */
async function ours(count) {
  const sandbox = await benchSandbox({ users: count + 1 });
  const store = createSqliteStore({ path: sqlitePath("latency") });
  const payouts = createPayouts({ ...connection(sandbox), store, ...runtimeOptions });
  const uid = (i) => sandbox.users[i].uid;
  await payouts.pay({ key: "warm-up", uid: uid(count), amount: 1, memo: "bench" });
  const ms = [];
  for (const [i, pause] of pauses(count).entries()) {
    await sleep(pause);
    const started = performance.now();
    const payout = await payouts.pay({ key: `l-${i}`, uid: uid(i), amount: 1, memo: "bench" });
    ms.push(performance.now() - started);
    if (payout.state !== "completed") throw new Error(`payout l-${i} ended ${payout.state}`);
  }
  await payouts.close();
  await store.close();
  await sandbox.close();
  return summary(ms);
}

/** The official SDK: create, submit, complete, each payout timed from create to complete. */
async function sdk(count) {
  const sandbox = await benchSandbox({ users: count + 1 });
  await officialSdkPays(sandbox, [sandbox.users[count].uid]);
  const ms = [];
  for (const [i, pause] of pauses(count).entries()) {
    await sleep(pause);
    const started = performance.now();
    await officialSdkPays(sandbox, [sandbox.users[i].uid]);
    ms.push(performance.now() - started);
  }
  await sandbox.close();
  return summary(ms);
}

/** 7. p50 and p99 of pay() → completed, ours and the official SDK's, and their ratios. */
export async function latency(count) {
  const mine = await ours(count);
  const theirs = await sdk(count);
  return {
    ours: mine,
    "official SDK": theirs,
    ratio: { p50: mine.p50 / theirs.p50, p99: mine.p99 / theirs.p99 },
  };
}
