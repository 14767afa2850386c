// Shared pieces of the benchmarks: a sandbox with realistic latencies, the baseline client,
// and the ways figures are measured.
import { createRequire } from "node:module";
import { Keypair } from "@stellar/stellar-sdk";
import { startSandbox } from "pi-payments/sandbox";

/** How long one ledger lasts in the throughput cases (Pi's is about 5 s; 1 s keeps the run short). */
export const LEDGER_MS = Number(process.env.BENCH_LEDGER_MS ?? 1000);

/**
 * Latencies per endpoint, as seen from a server near Pi's: the time a request takes on top
 * of the sandbox's own. Submissions also wait for their ledger to close.
 */
export const latencies = [
  { route: "POST /v2/payments", kind: "latency", ms: 120, jitterMs: 40 },
  { route: "POST /v2/payments/*/complete", kind: "latency", ms: 150, jitterMs: 50 },
  { route: "POST /v2/payments/*/cancel", kind: "latency", ms: 100, jitterMs: 30 },
  { route: "GET /v2/payments/*", kind: "latency", ms: 60, jitterMs: 20 },
  { route: "GET /v2/payments/incomplete_server_payments", kind: "latency", ms: 60, jitterMs: 20 },
  { route: "GET /accounts/*", kind: "latency", ms: 40, jitterMs: 15 },
  { route: "GET /accounts/*/transactions", kind: "latency", ms: 50, jitterMs: 15 },
  { route: "GET /transactions/*", kind: "latency", ms: 40, jitterMs: 15 },
  { route: "GET /ledgers", kind: "latency", ms: 30, jitterMs: 10 },
  { route: "GET /fee_stats", kind: "latency", ms: 30, jitterMs: 10 },
  { route: "GET /", kind: "latency", ms: 30, jitterMs: 10 },
  { route: "POST /transactions", kind: "latency", ms: 50, jitterMs: 20 },
];

/** A sandbox as the throughput cases use it. */
export function benchSandbox(options = {}) {
  return startSandbox({
    ledgerIntervalMs: LEDGER_MS,
    clock: "wall",
    seed: 7,
    faults: latencies,
    ...options,
  });
}

/** The connection options of createPayouts for a sandbox. */
export function connection(sandbox) {
  return {
    apiKey: sandbox.apiKey,
    walletSeed: sandbox.walletSeed,
    network: sandbox.network,
    apiUrl: sandbox.apiUrl,
    horizonUrl: sandbox.horizonUrl,
  };
}

/** Funded channel accounts' seeds. */
export function channelsFor(sandbox, count) {
  return Array.from({ length: count }, () => {
    const channel = Keypair.random();
    sandbox.chain.createAccount(channel.publicKey(), 1_000n * 10_000_000n);
    return channel.secret();
  });
}

/**
 * Payouts completed per ledger: applied payments divided by the ledgers from the first to the
 * last one holding a payment (so that waiting before the first does not count).
 */
export function perLedger(sandbox, since) {
  const paid = sandbox.ledgerPayments().filter((p) => p.ledger > since);
  if (paid.length === 0) return { payments: 0, ledgers: 0, rate: 0 };
  const first = Math.min(...paid.map((p) => p.ledger));
  const last = Math.max(...paid.map((p) => p.ledger));
  const ledgers = last - first + 1;
  return { payments: paid.length, ledgers, rate: paid.length / ledgers };
}

/** Requests the sandbox received per payout, by face. */
export function requestsPer(sandbox, count, since = 0) {
  const log = sandbox.requests().slice(since);
  const pi = log.filter((r) => r.face === "pi").length;
  const horizon = log.filter((r) => r.face === "horizon").length;
  return { pi: pi / count, horizon: horizon / count, total: (pi + horizon) / count };
}

/**
 * The baseline: the official Node SDK (pi-backend 0.1.3) itself, one payout at a time:
 * create; load the account; fetch the base fee; fetch time bounds; submit; complete.
 * Only its base URLs change (its Horizon host is hard-coded in one method).
 */
export async function officialSdkPays(sandbox, uids, amount = 1) {
  const require = createRequire(import.meta.url);
  const PiBackend = require("pi-backend").default;
  const LegacyStellarSdk = require("stellar-sdk");
  const pi = new PiBackend(sandbox.apiKey, sandbox.walletSeed, { baseUrl: sandbox.apiUrl });
  pi.getHorizonClient = (network) => {
    pi.NETWORK_PASSPHRASE = network;
    return new LegacyStellarSdk.Server(sandbox.horizonUrl, { allowHttp: true });
  };
  for (const uid of uids) {
    const id = await pi.createPayment({ amount, memo: "baseline", metadata: {}, uid });
    const txid = await pi.submitPayment(id, false);
    await pi.completePayment(id, txid);
  }
}

/** Resolves after `ms`. */
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
