// `npm run bench`: payout throughput, overhead and recovery, side by side in one run.
// Prints a table and writes bench/results/latest.json (and a dated copy).
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import Table from "cli-table3";
import { channels, LEDGER_MS, overhead, recovery, throughput } from "./cases.mjs";

const quick = process.argv.includes("--quick");
const sizes = {
  throughput: quick ? 6 : 15,
  channelCounts: quick ? [1, 4] : [1, 4, 16],
  perChannel: quick ? 3 : 5,
  overhead: quick ? 20 : 100,
  recovery: quick ? 1000 : 10_000,
};

const goals = {
  perApp: 0.9,
  perChannel: 0.9,
  coreCpuMsOnSqlite: 2,
  requestsPerPayout: 4,
};

/** "met", or by how much a goal is missed. */
function verdict(value, goal, higherIsBetter) {
  if (value === undefined || Number.isNaN(value)) return "n/a";
  const ok = higherIsBetter ? value >= goal : value <= goal;
  if (ok) return "met";
  const missBy = higherIsBetter ? (goal - value) / goal : (value - goal) / goal;
  return `missed by ${(missBy * 100).toFixed(0)}%`;
}

const fmt = (n, digits = 2) => (n === undefined ? "—" : Number(n).toFixed(digits));

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

console.log("1/4 throughput…");
figures.throughput = await throughput(sizes.throughput);
console.log("2/4 channel accounts…");
figures.channels = await channels(sizes.channelCounts, sizes.perChannel);
console.log("3/4 overhead…");
figures.overhead = await overhead(sizes.overhead);
console.log("4/4 recovery…");
figures.recovery = await recovery(sizes.recovery);
figures.seconds = (Date.now() - started) / 1000;

const table = new Table({
  head: ["case", "figure", "goal", "verdict"],
  style: { head: [], border: [] },
});
table.push([{ colSpan: 4, content: "1. payouts per ledger (one app wallet)" }]);
for (const [name, r] of Object.entries(figures.throughput)) {
  const goal =
    name.startsWith("pay() per app") || name.startsWith("fleet of 2 per app")
      ? goals.perApp
      : undefined;
  table.push([
    name,
    `${fmt(r.rate)} (${r.payments} in ${r.ledgers} ledgers)`,
    goal ? `≥ ${goal}` : "",
    goal ? verdict(r.rate, goal, true) : "",
  ]);
}
table.push([
  {
    colSpan: 4,
    content: "2. channel accounts, per-user rule, one transaction per account per ledger",
  },
]);
for (const [name, r] of Object.entries(figures.channels)) {
  const goal = r.channels > 0 ? goals.perChannel * r.channels : undefined;
  table.push([
    name,
    `${fmt(r.rate)} (${r.payments} in ${r.ledgers} ledgers)`,
    goal ? `≥ ${fmt(goal, 1)}` : "",
    goal ? verdict(r.rate, goal, true) : "",
  ]);
}
table.push([{ colSpan: 4, content: "3. overhead per payout" }]);
for (const [name, r] of Object.entries(figures.overhead)) {
  if (r.skipped) {
    table.push([name, `skipped: ${r.skipped}`, "", ""]);
    continue;
  }
  if (r.coreCpuMs !== undefined) {
    const isSqlite = name === "sqlite";
    if (name === "sqlite (NORMAL)") {
      table.push([
        `${name}: library CPU (machine, runtime, store)`,
        `${fmt(r.coreCpuMs, 3)} ms`,
        `≤ ${goals.coreCpuMsOnSqlite} ms`,
        verdict(r.coreCpuMs, goals.coreCpuMsOnSqlite, false),
      ]);
      continue;
    }
    table.push([
      `${name}: library CPU (machine, runtime, store)`,
      `${fmt(r.coreCpuMs, 3)} ms`,
      isSqlite ? `≤ ${goals.coreCpuMsOnSqlite} ms` : "",
      isSqlite ? verdict(r.coreCpuMs, goals.coreCpuMsOnSqlite, false) : "",
    ]);
    table.push([
      `${name}: CPU end to end (with HTTP clients, signing)`,
      `${fmt(r.endToEndCpuMs, 2)} ms`,
      "",
      "",
    ]);
  }
  table.push([
    `${name}: requests (Pi + Horizon)`,
    `${fmt(r.requestsPerPayout)} (${fmt(r.piRequests)} + ${fmt(r.horizonRequests)})`,
    name === "official SDK" ? "" : `≤ ${goals.requestsPerPayout}`,
    name === "official SDK" ? "" : verdict(r.requestsPerPayout, goals.requestsPerPayout, false),
  ]);
}
table.push([
  { colSpan: 4, content: `4. recovery: resume() of ${sizes.recovery} unfinished payouts` },
]);
for (const [name, r] of Object.entries(figures.recovery)) {
  if (r.skipped) table.push([name, `skipped: ${r.skipped}`, "", ""]);
  else
    table.push([
      name,
      `${fmt(r.resumeMs / 1000, 2)} s to take all up (${fmt(r.perPayoutUs, 0)} µs each), ${fmt(r.memoryPerPayoutKiB, 1)} KiB per payout in flight`,
      "",
      "",
    ]);
}
console.log(table.toString());
console.log(`done in ${figures.seconds.toFixed(0)} s`);

const dir = new URL("./results/", import.meta.url);
mkdirSync(dir, { recursive: true });
const json = `${JSON.stringify(figures, null, 2)}\n`;
writeFileSync(new URL("latest.json", dir), json);
writeFileSync(new URL(`bench-${figures.at.slice(0, 19).replaceAll(":", "-")}.json`, dir), json);
console.log("figures written to bench/results/latest.json");
process.exit(0);
