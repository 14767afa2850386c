// `npm run bench`: every speed claim as figures side by side in one run, each against its
// goal with a verdict. Prints a table and writes bench/results/latest.json (and a dated copy).
// `--quick` runs every case smaller; `--scale=N` sets the larger store of case 5.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { createMemoryStore } from "pi-payments/memory";
import { channels } from "./cases/channels.mjs";
import { coldImport } from "./cases/cold-import.mjs";
import { feed } from "./cases/feed.mjs";
import { latency } from "./cases/latency.mjs";
import { cpuOnFreshStore, libraryCpu } from "./cases/library-cpu.mjs";
import { libraryCpuInProcesses } from "./cases/library-cpu-processes.mjs";
import { sqliteSides } from "./cases/library-cpu-sides.mjs";
import { overhead } from "./cases/overhead.mjs";
import { recovery } from "./cases/recovery.mjs";
import { storeScale } from "./cases/store-scale.mjs";
import { throughput } from "./cases/throughput.mjs";
import { LEDGER_MS } from "./lib.mjs";
import { printTable } from "./report.mjs";
import { median } from "./stats.mjs";
import { webhooks } from "./webhooks.mjs";

const quick = process.argv.includes("--quick");
const scaleArg = process.argv.find((a) => a.startsWith("--scale="));
const sizes = {
  throughput: quick ? 6 : 15,
  channelCounts: quick ? [1, 4] : [1, 4, 16],
  perChannel: quick ? 3 : 5,
  overhead: quick ? 20 : 100,
  cpuRounds: quick ? 12 : 45,
  cpuChunk: 100,
  // Payouts each side of case 3 pays before it is measured. V8 still optimises the
  // library's functions long after 200 payouts (node --trace-opt, 2026-12-08: with consumer
  // and telemetry on, 388 functions compiled in the first 500 payouts, 202 in the next
  // 1,500, 78 in the 2,000 after, 8 to 11 per thousand from 4,000 on): with 200, the
  // measured rounds paid for compiling code a service compiles once.
  cpuWarmUp: quick ? 200 : 2000,
  recovery: quick ? 1000 : 10_000,
  scale: [10_000, scaleArg ? Number(scaleArg.slice(8)) : quick ? 100_000 : 1_000_000],
  scaleUnsettled: quick ? 500 : 1000,
  scaleCalls: quick ? 200 : 1000,
  feedLines: 50_000,
  webhookEvents: quick ? 500 : 2000,
  latency: quick ? 10 : 40,
  coldRuns: quick ? 5 : 9,
};

console.log(
  `pi-payments bench: ledgers every ${LEDGER_MS} ms, ${cpus().length} CPUs, Node ${process.version}${quick ? " (quick)" : ""}`,
);
const started = Date.now();
const figures = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  memoryGiB: totalmem() / 2 ** 30,
  ledgerMs: LEDGER_MS,
  sizes,
};

const steps = [
  ["throughput", () => throughput(sizes.throughput)],
  ["channels", () => channels(sizes.channelCounts, sizes.perChannel)],
  ["overhead", () => overhead(sizes.overhead)],
  [
    "libraryCpu",
    async () => {
      // The memory store keeps every payout in the heap, which would make the collector's
      // work grow for the sides run beside it: it is measured alone, on fresh stores.
      const memoryRuns = [];
      for (let i = 0; i < 3; i++) {
        memoryRuns.push(await cpuOnFreshStore(async () => ({ store: createMemoryStore() }), 1000));
      }
      const sizesOfCase = {
        rounds: sizes.cpuRounds,
        chunkPayouts: sizes.cpuChunk,
        warmUp: sizes.cpuWarmUp,
      };
      const sides = await libraryCpu(sqliteSides(), sizesOfCase);
      const inProcesses = await libraryCpuInProcesses(sizesOfCase);
      const memory = {
        cpuMs: median(memoryRuns.map((r) => r.cpuMs)),
        wallMs: median(memoryRuns.map((r) => r.wallMs)),
        rounds: memoryRuns.map((r) => r.cpuMs),
        per: 1000,
      };
      return { memory, ...sides, processes: inProcesses };
    },
  ],
  ["recovery", () => recovery(sizes.recovery)],
  [
    "storeScale",
    () =>
      storeScale({ sizes: sizes.scale, unsettled: sizes.scaleUnsettled, calls: sizes.scaleCalls }),
  ],
  ["feed", () => feed(sizes.feedLines)],
  ["webhooks", () => webhooks({ events: sizes.webhookEvents })],
  ["latency", () => latency(sizes.latency)],
  ["coldImport", () => coldImport(sizes.coldRuns)],
];
for (const [i, [name, run]] of steps.entries()) {
  const at = Date.now();
  console.log(`${i + 1}/${steps.length} ${name}…`);
  figures[name] = await run();
  console.log(`   ${((Date.now() - at) / 1000).toFixed(0)} s`);
}
figures.seconds = (Date.now() - started) / 1000;

printTable(figures);
console.log(`done in ${figures.seconds.toFixed(0)} s`);

const dir = new URL("./results/", import.meta.url);
mkdirSync(dir, { recursive: true });
const json = `${JSON.stringify(figures, null, 2)}\n`;
writeFileSync(new URL("latest.json", dir), json);
writeFileSync(new URL(`bench-${figures.at.slice(0, 19).replaceAll(":", "-")}.json`, dir), json);
console.log("figures written to bench/results/latest.json");
process.exit(0);
