import fc from "fast-check";
import { expect } from "vitest";
import {
  checkInvariants,
  closeLedgersEvery,
  commands,
  crashSites,
  drain,
  type PropertyStore,
  settings,
  startSystem,
  stopSystem,
} from "./payout-system.js";

/** What the runs of a property did, for the report. */
export interface PropertyStats {
  ran: number;
  crashes: number;
  crashesInFlight: number;
  strays: number;
  outcomes: Map<string, number>;
}

/** A new, empty report. */
export function newStats(): PropertyStats {
  return { ran: 0, crashes: 0, crashesInFlight: 0, strays: 0, outcomes: new Map() };
}

/**
 * The no-double-pay property on one store: a run of payouts, cancels, faults, ledgers and
 * crashes, then every payout driven to rest and the safety invariants checked against the
 * sandbox's own records.
 */
export function noDoublePay(store: PropertyStore, stats: PropertyStats) {
  return fc.asyncProperty(settings, commands, async (options, cmds) => {
    const system = await startSystem({
      seed: options.seed,
      incompleteLimit: options.incompleteLimit,
      // Sometimes Pi's rule is wider than configured: payouts must then wait, not fail.
      sandboxLimit: options.sandboxMatches ? options.incompleteLimit : "app",
      linkLagMs: options.linkLagMs,
      store,
    });
    const stopLedgers = options.autoLedgers ? closeLedgersEvery(system, 4) : () => {};
    try {
      await fc.asyncModelRun(() => ({ model: {}, real: system }), cmds);
      stopLedgers();
      const payouts = await drain(system);
      await checkInvariants(system, payouts);
      stats.crashes += system.crashes;
      stats.crashesInFlight += system.crashesInFlight;
      stats.strays += system.strays;
      for (const payout of payouts) {
        const outcome = payout.state === "failed" ? `failed:${payout.failure?.code}` : payout.state;
        stats.outcomes.set(outcome, (stats.outcomes.get(outcome) ?? 0) + 1);
      }
    } finally {
      stopLedgers();
      await stopSystem(system);
      stats.ran += 1;
    }
  });
}

/** The report of a property's runs, a few lines. */
export function report(label: string, stats: PropertyStats, seconds: number): string {
  return [
    `${label}: ${stats.ran} runs in ${seconds.toFixed(1)} s`,
    `crashes: ${stats.crashes} (${stats.crashesInFlight} at an await point of a payout in flight)`,
    `crash sites: ${[...crashSites]
      .sort((a, b) => b[1] - a[1])
      .map(([site, n]) => `${site} ${n}`)
      .join(", ")}`,
    `payouts: ${[...stats.outcomes].map(([outcome, n]) => `${outcome} ${n}`).join(", ")}`,
    `late creates cancelled as strays at the end: ${stats.strays}`,
  ].join("\n");
}

/**
 * Runs the no-double-pay property. Reproduce a failure with the printed seed and path:
 * PI_PAYMENTS_PROPERTY_SEED=… PI_PAYMENTS_PROPERTY_PATH=… npx vitest run test/properties
 */
export async function runProperty(store: PropertyStore, defaultRuns: number): Promise<void> {
  const runs = Number(process.env.PI_PAYMENTS_PROPERTY_RUNS ?? defaultRuns);
  const seed = process.env.PI_PAYMENTS_PROPERTY_SEED;
  const path = process.env.PI_PAYMENTS_PROPERTY_PATH;
  const stats = newStats();
  const started = performance.now();
  await fc.assert(noDoublePay(store, stats), {
    numRuns: runs,
    endOnFailure: true,
    ...(seed === undefined ? {} : { seed: Number(seed) }),
    ...(path === undefined ? {} : { path }),
  });
  console.log(report(store, stats, (performance.now() - started) / 1000));
  expect(stats.ran).toBe(runs);
}
