// The table of a run: every figure next to its goal and a verdict.
import Table from "cli-table3";
import { medianInterval } from "./stats.mjs";

/** The goals of issues 12 and 13, as the table states them. */
export const goals = {
  perApp: 0.9,
  perChannel: 0.9,
  coreCpuMsOnSqlite: 2,
  /** Library CPU with an event consumer and telemetry both on, against neither (issue 13). */
  consumerAndTelemetryRatio: 1.1,
  webhooksPerSecond: 500,
  requestsPerPayout: 4,
  latencyRatio: 1.05,
  scaleRatio: 2,
  eventsPerSecond: { sqlite: 5000, postgres: 2000 },
};

/** "met", or by how much a goal is missed. */
export function verdict(value, goal, higherIsBetter) {
  if (value === undefined || Number.isNaN(value)) return "n/a";
  const ok = higherIsBetter ? value >= goal : value <= goal;
  if (ok) return "met";
  const missBy = higherIsBetter ? (goal - value) / goal : (value - goal) / goal;
  return `not met (by ${(missBy * 100).toFixed(0)}%)`;
}

/**
 * The verdict of a ratio measured with noise (see medianInterval): met only if the whole 95%
 * interval is within the goal, missed only if it is all beyond; otherwise the run cannot tell.
 */
export function verdictOfInterval(interval, goal) {
  if (interval === undefined) return "n/a";
  if (interval.high <= goal) return "met";
  if (interval.low > goal) return verdict(interval.median, goal, false);
  return "undecided (the 95% interval holds the goal)";
}

const fmt = (n, digits = 2) => (n === undefined ? "—" : Number(n).toFixed(digits));
const section = (table, content) => table.push([{ colSpan: 4, content }]);

function throughputRows(table, figures) {
  section(table, "1. payouts per ledger (one app wallet)");
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
  section(table, "2. channel accounts, per-user rule, one transaction per account per ledger");
  for (const [name, r] of Object.entries(figures.channels)) {
    const goal = r.channels > 0 ? goals.perChannel * r.channels : undefined;
    table.push([
      name,
      `${fmt(r.rate)} (${r.payments} in ${r.ledgers} ledgers)`,
      goal ? `≥ ${fmt(goal, 1)}` : "",
      goal ? verdict(r.rate, goal, true) : "",
    ]);
  }
}

/**
 * Case 3's sides of one way of running them (`suffix` names it), each against the first
 * SQLite side round by round: the sides of one round ran back to back, so a neighbour's load
 * falls on both figures of a round's ratio (medians of each side apart do not pair).
 */
function libraryCpuRows(table, sides, suffix) {
  const base = sides["sqlite, no consumer"];
  for (const [name, r] of Object.entries(sides)) {
    if (r?.skipped) {
      table.push([`library CPU, ${name}${suffix}`, `skipped: ${r.skipped}`, "", ""]);
      continue;
    }
    const isGoal = name === "sqlite, no consumer";
    const both = name === "sqlite, consumer and telemetry";
    const ratio = base ? medianInterval(r.rounds.map((v, i) => v / base.rounds[i])) : undefined;
    const vsBase =
      name.startsWith("sqlite,") && !isGoal && ratio
        ? ` (${fmt(ratio.median)}× round by round, 95%: ${fmt(ratio.low)}–${fmt(ratio.high)})`
        : "";
    table.push([
      `library CPU, ${name}${suffix}`,
      `${fmt(r?.cpuMs, 3)} ms${vsBase}, ${r?.rounds.length} rounds of ${r?.per}: ${fmt(Math.min(...r.rounds))}–${fmt(Math.max(...r.rounds))}`,
      isGoal
        ? `≤ ${goals.coreCpuMsOnSqlite} ms`
        : both
          ? `≤ ${goals.consumerAndTelemetryRatio}× no consumer`
          : "",
      isGoal
        ? verdict(r?.cpuMs, goals.coreCpuMsOnSqlite, false)
        : both
          ? verdictOfInterval(ratio, goals.consumerAndTelemetryRatio)
          : "",
    ]);
  }
}

function overheadRows(table, figures) {
  section(table, "3. overhead per payout (library CPU: instant adapters, SQLite on disk)");
  const { processes, ...inOneProcess } = figures.libraryCpu;
  libraryCpuRows(table, inOneProcess, "");
  if (processes) libraryCpuRows(table, processes, " (a process each)");
  for (const [name, r] of Object.entries(figures.overhead)) {
    if (r.skipped) {
      table.push([name, `skipped: ${r.skipped}`, "", ""]);
      continue;
    }
    if (r.endToEndCpuMs !== undefined)
      table.push([
        `${name}: CPU end to end (HTTP clients, signing)`,
        `${fmt(r.endToEndCpuMs)} ms (library alone ${fmt(r.coreCpuMs, 3)} ms)`,
        "",
        "",
      ]);
    const sdk = name === "official SDK";
    table.push([
      `${name}: requests (Pi + Horizon)`,
      `${fmt(r.requestsPerPayout)} (${fmt(r.piRequests)} + ${fmt(r.horizonRequests)})`,
      sdk ? "" : `≤ ${goals.requestsPerPayout}`,
      sdk ? "" : verdict(r.requestsPerPayout, goals.requestsPerPayout, false),
    ]);
  }
  section(table, `4. recovery: resume() of ${figures.sizes.recovery} unfinished payouts`);
  for (const [name, r] of Object.entries(figures.recovery)) {
    if (r.skipped) table.push([name, `skipped: ${r.skipped}`, "", ""]);
    else
      table.push([
        name,
        `${fmt(r.resumeMs / 1000)} s to take all up (${fmt(r.perPayoutUs, 0)} µs each), ${fmt(r.memoryPerPayoutKiB, 1)} KiB per payout in flight`,
        "",
        "",
      ]);
  }
}

function scaleRows(table, figures) {
  const [small, large] = figures.sizes.scale;
  section(
    table,
    `5. cost flat in the store's size: median µs per call at ${small.toLocaleString("en")} → ${large.toLocaleString("en")} payouts (${figures.sizes.scaleUnsettled} unfinished at both)`,
  );
  for (const [store, r] of Object.entries(figures.storeScale)) {
    if (r.skipped) {
      table.push([store, `skipped: ${r.skipped}`, "", ""]);
      continue;
    }
    for (const [op, f] of Object.entries(r.operations))
      table.push([
        `${store}: ${op}`,
        `${fmt(f.smallUs, 0)} → ${fmt(f.largeUs, 0)} µs (${fmt(f.ratio)}×)`,
        `≤ ${goals.scaleRatio}×`,
        verdict(f.ratio, goals.scaleRatio, false),
      ]);
    table.push([
      `${store}: seeding`,
      `${fmt(r.seedSeconds[0], 1)} s, ${fmt(r.seedSeconds[1], 1)} s`,
      "",
      "",
    ]);
  }
}

function feedRows(table, figures) {
  section(table, `6. event feed: one consumer drains ${figures.sizes.feedLines} journal lines`);
  for (const [store, r] of Object.entries(figures.feed)) {
    if (r.skipped) table.push([store, `skipped: ${r.skipped}`, "", ""]);
    else
      table.push([
        `${store}: events consumed per second`,
        `${fmt(r.perSecond, 0)} (${r.events} in ${fmt(r.seconds)} s)`,
        `≥ ${goals.eventsPerSecond[store]}`,
        verdict(r.perSecond, goals.eventsPerSecond[store], true),
      ]);
    if (r.heapKeptMiB !== undefined)
      table.push([
        `${store}: heap the holder keeps after draining (MiB)`,
        fmt(r.heapKeptMiB, 1),
        "",
        "",
      ]);
  }
}

function webhookRows(table, figures) {
  const r = figures.webhooks;
  if (!r) return;
  table.push([
    "webhook deliveries per second (SQLite → keep-alive loopback receiver, signatures verified)",
    `${fmt(r.perSecond, 0)} (${r.events} in ${fmt(r.seconds)} s, ${r.badSignatures} bad signatures)`,
    `≥ ${goals.webhooksPerSecond}`,
    verdict(r.perSecond, goals.webhooksPerSecond, true),
  ]);
}

function latencyRows(table, figures) {
  const { ours, ratio } = figures.latency;
  const sdk = figures.latency["official SDK"];
  section(
    table,
    `7. latency pay() → completed, ${ours.payouts} payouts one at a time, ledgers every ${figures.ledgerMs} ms`,
  );
  for (const p of ["p50", "p99"])
    table.push([
      `${p}: ours (SQLite) vs official SDK`,
      `${fmt(ours[p], 0)} ms vs ${fmt(sdk[p], 0)} ms (${fmt(ratio[p], 3)}×)`,
      `≤ ${goals.latencyRatio}×`,
      verdict(ratio[p], goals.latencyRatio, false),
    ]);
}

function coldImportRows(table, figures) {
  section(table, "8. cold import in a fresh node process (median)");
  const entries = Object.entries(figures.coldImport);
  const main = entries[0]?.[1]?.ms;
  for (const [i, [name, r]] of entries.entries())
    table.push([
      name,
      `${fmt(r.ms, 0)} ms, ${r.commonJsModules} CommonJS modules (runs ${r.runs.map((v) => fmt(v, 0)).join(" / ")})`,
      i === 0 ? "none set" : "< the main entry",
      i === 0 ? "n/a" : verdict(r.ms, main, false),
    ]);
}

/** Prints the run's table. */
export function printTable(figures) {
  const table = new Table({
    head: ["case", "figure", "goal", "verdict"],
    style: { head: [], border: [] },
  });
  throughputRows(table, figures);
  overheadRows(table, figures);
  scaleRows(table, figures);
  feedRows(table, figures);
  webhookRows(table, figures);
  latencyRows(table, figures);
  coldImportRows(table, figures);
  console.log(table.toString());
}
