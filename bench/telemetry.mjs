// The cost of telemetry: library CPU per payout with telemetry off, with the API but no SDK,
// and with an SDK recording (and the same with an event consumer running), each on a fresh
// runtime after 100 payouts of warm-up: short runs, so the JIT's work on the extra code
// counts (the main bench's case 3 measures warm runtimes). Standalone:
// `npm run build && node --expose-gc bench/telemetry.mjs [payouts per round] [rounds] [memory|sqlite]`.
// The main bench takes only `telemetryOptions()` from here.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { metrics, trace } from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { Keypair } from "@stellar/stellar-sdk";
import { createPayouts } from "pi-payments";
import { createMemoryStore } from "pi-payments/memory";
import { createSqliteStore } from "pi-payments/sqlite";
import { instantAdapters } from "./instant-adapters.mjs";
import { median } from "./stats.mjs";

/** Spans are batched and dropped, as an exporter that ships them off-process would leave them. */
const discardingExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
  forceFlush: async () => {},
};

/** Metrics aggregate in memory until a scrape, which this bench never makes (as between scrapes). */
class IdleReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

/** A recording SDK: the tracer and meter providers a host would register. */
function recordingSdk() {
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new BatchSpanProcessor(discardingExporter, { maxQueueSize: 100_000 })],
  });
  const meterProvider = new MeterProvider({ readers: [new IdleReader()] });
  return {
    telemetry: { tracerProvider, meterProvider },
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/**
 * createPayouts options that turn telemetry on with a recording SDK, for the main bench's
 * "with telemetry" columns (the providers live as long as the process).
 */
export async function telemetryOptions() {
  return { telemetry: recordingSdk().telemetry };
}

/** The variants measured: telemetry off, API without SDK, SDK recording; without and with a consumer. */
const variants = {
  off: { telemetry: "off", consumer: false },
  noSdk: { telemetry: "no sdk", consumer: false },
  on: { telemetry: "on", consumer: false },
  consumer: { telemetry: "off", consumer: true },
  consumerAndTelemetry: { telemetry: "on", consumer: true },
};

/** A fresh store: `memory` (the library's cost at its smallest) or `sqlite` (the default store). */
function storeFor(kind) {
  if (kind !== "sqlite") return { store: createMemoryStore(), drop: () => {} };
  const dir = mkdtempSync(join(tmpdir(), "pi-bench-telemetry-"));
  return {
    store: createSqliteStore({ path: join(dir, "bench.db") }),
    drop: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** CPU ms per payout of one variant over `count` payouts (after a warm-up). */
async function measure(variant, count, adaptersFor, storeKind = "memory") {
  const wallet = Keypair.random();
  const { store, drop } = storeFor(storeKind);
  const sdk = variant.telemetry === "on" ? recordingSdk() : undefined;
  const payouts = createPayouts({
    apiKey: "bench-api-key",
    walletSeed: wallet.secret(),
    network: "Pi Testnet",
    store,
    ...adaptersFor(wallet.publicKey()),
    slotPollMs: 1,
    telemetry: variant.telemetry === "off" ? false : sdk ? sdk.telemetry : {},
  });
  const last = `cpu-${count - 1}`;
  let caughtUp = false;
  const consumer = variant.consumer
    ? payouts.events.consume("bench", (event) => {
        if (event.key === last && event.state === "completed") caughtUp = true;
      })
    : undefined;
  for (let i = 0; i < 100; i++)
    await payouts.pay({ key: `warm-up-${i}`, uid: "u", amount: 1, memo: "m" });
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++)
    await payouts.pay({ key: `cpu-${i}`, uid: "u", amount: 1, memo: "m" });
  // The consumer's work for these payouts counts too: wait until it has seen their events.
  if (consumer) while (!caughtUp) await new Promise((r) => setTimeout(r, 1));
  // Telemetry records in batches: these payouts' records count here.
  payouts.flushTelemetry();
  const cpu = process.cpuUsage(before);
  await consumer?.stop();
  await payouts.close();
  await store.close();
  drop();
  await sdk?.shutdown();
  return (cpu.user + cpu.system) / 1000 / count;
}

/**
 * Library CPU per payout (ms, median of `rounds` interleaved rounds, so that a neighbour's
 * load falls on every variant alike) for each variant, and the ratios the goals are about:
 * API without SDK against off (goal: within noise), and consumer with telemetry against off
 * (goal: at most 1.10 once warm, judged by the main bench's case 3).
 * @param {{ count?: number, rounds?: number, adapters?: (walletAddress: string) => object, only?: string[], store?: "memory" | "sqlite" }} options
 */
export async function cpuPerPayoutWithTelemetry(options = {}) {
  const { count = 300, rounds = 5, adapters = instantAdapters, only, store = "memory" } = options;
  // Nothing registered globally: "no sdk" must see the API's no-ops.
  trace.disable();
  metrics.disable();
  const samples = Object.fromEntries((only ?? Object.keys(variants)).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    // A different order each round: whichever runs first (or after another's garbage) pays more.
    const order = only ?? Object.keys(variants);
    const shift = round % order.length;
    for (const name of [...order.slice(shift), ...order.slice(0, shift)]) {
      globalThis.gc?.();
      samples[name].push(await measure(variants[name], count, adapters, store));
    }
  }
  return summary(samples);
}

/**
 * The same figures, each measurement in a fresh process (`node bench/telemetry.mjs --variant
 * <name> <count>`): a service runs one configuration, and variants measured side by side in
 * one process tax each other (one's garbage and timers, JIT code made polymorphic).
 */
export async function cpuPerPayoutWithTelemetryIsolated(options = {}) {
  const { count = 300, rounds = 5, only, store = "memory" } = options;
  const { execFileSync } = await import("node:child_process");
  const script = fileURLToPath(import.meta.url);
  const names = only ?? Object.keys(variants);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const out = execFileSync(
        process.execPath,
        ["--expose-gc", script, "--variant", name, String(count), store],
        { encoding: "utf8" },
      );
      samples[name].push(Number(out.trim()));
    }
  }
  return summary(samples);
}

function summary(samples) {
  const cpuMs = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
  return {
    cpuMs,
    noSdkOverOff: cpuMs.noSdk / cpuMs.off,
    onOverOff: cpuMs.on / cpuMs.off,
    consumerOverOff: cpuMs.consumer / cpuMs.off,
    consumerAndTelemetryOverOff: cpuMs.consumerAndTelemetry / cpuMs.off,
    samples,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv[2] === "--variant") {
    trace.disable();
    metrics.disable();
    const name = process.argv[3];
    const ms = await measure(
      variants[name],
      Number(process.argv[4] ?? 300),
      instantAdapters,
      process.argv[5] ?? "memory",
    );
    console.log(String(ms));
  } else {
    const count = Number(process.argv[2] ?? 300);
    const rounds = Number(process.argv[3] ?? 5);
    const store = process.argv[4] ?? "memory";
    const inProcess = await cpuPerPayoutWithTelemetry({ count, rounds, store });
    const isolated = await cpuPerPayoutWithTelemetryIsolated({ count, rounds, store });
    for (const [label, result] of [
      ["one process, variants interleaved", inProcess],
      ["a fresh process per measurement", isolated],
    ]) {
      console.log(
        `library CPU per payout, ms (median of ${rounds} of ${count}, ${store} store), ${label}:`,
      );
      for (const [name, ms] of Object.entries(result.cpuMs))
        console.log(`  ${name.padEnd(22)} ${ms.toFixed(3)}`);
      console.log(
        `  no SDK / off                   ${result.noSdkOverOff.toFixed(3)} (goal: within noise)`,
      );
      console.log(`  on / off                       ${result.onOverOff.toFixed(3)}`);
      console.log(`  consumer / off                 ${result.consumerOverOff.toFixed(3)}`);
      console.log(
        `  consumer+telemetry / off       ${result.consumerAndTelemetryOverOff.toFixed(3)} (goal ≤ 1.10, once warm: see case 3)`,
      );
    }
  }
}
