import fc from "fast-check";
import { expect } from "vitest";
import {
  checkInvariants,
  closeLedgersEvery,
  commands,
  crashSites,
  drain,
  settings,
  startSystem,
  stopSystem,
} from "./payout-system.js";

/**
 * Runs the no-double-pay property. Reproduce a failure with the printed seed and path:
 * PI_PAYMENTS_PROPERTY_SEED=… PI_PAYMENTS_PROPERTY_PATH=… npx vitest run test/properties
 */
export async function runProperty(store: "memory" | "sqlite", defaultRuns: number): Promise<void> {
  const runs = Number(process.env.PI_PAYMENTS_PROPERTY_RUNS ?? defaultRuns);
  const seed = process.env.PI_PAYMENTS_PROPERTY_SEED;
  const path = process.env.PI_PAYMENTS_PROPERTY_PATH;
  let ran = 0;
  let crashes = 0;
  let crashesInFlight = 0;
  let strays = 0;
  const outcomes = new Map<string, number>();
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(settings, commands, async (options, cmds) => {
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
        crashes += system.crashes;
        crashesInFlight += system.crashesInFlight;
        strays += system.strays;
        for (const payout of payouts) {
          const outcome =
            payout.state === "failed" ? `failed:${payout.failure?.code}` : payout.state;
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }
      } finally {
        stopLedgers();
        await stopSystem(system);
        ran += 1;
      }
    }),
    {
      numRuns: runs,
      endOnFailure: true,
      ...(seed === undefined ? {} : { seed: Number(seed) }),
      ...(path === undefined ? {} : { path }),
    },
  );
  console.log(
    [
      `${store}: ${ran} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      `crashes: ${crashes} (${crashesInFlight} at an await point of a payout in flight)`,
      `crash sites: ${[...crashSites]
        .sort((a, b) => b[1] - a[1])
        .map(([site, n]) => `${site} ${n}`)
        .join(", ")}`,
      `payouts: ${[...outcomes].map(([outcome, n]) => `${outcome} ${n}`).join(", ")}`,
      `late creates cancelled as strays at the end: ${strays}`,
    ].join("\n"),
  );
  expect(ran).toBe(runs);
}
