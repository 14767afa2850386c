import fc from "fast-check";
import { expect, test } from "vitest";
import type { PropertyStore } from "./payout-system.js";
import { newStats, noDoublePay, report } from "./run-property.js";

/**
 * `npm run soak`: the no-double-pay property for as long as asked (100,000 runs by default),
 * round-robin over the stores, in batches of 100 runs from consecutive seeds. A failing
 * batch prints its seed and path (replay it with PI_PAYMENTS_PROPERTY_SEED and
 * PI_PAYMENTS_PROPERTY_PATH and `npx vitest run test/properties`), and the soak goes on.
 *
 * PI_PAYMENTS_SOAK_RUNS (default 100000), PI_PAYMENTS_SOAK_STORES (default
 * memory,sqlite,postgres), PI_PAYMENTS_SOAK_SEED (the first batch's seed; default random).
 */
test("soak: the no-double-pay property, seed after seed", async () => {
  const total = Number(process.env.PI_PAYMENTS_SOAK_RUNS ?? 100_000);
  const stores = (process.env.PI_PAYMENTS_SOAK_STORES ?? "memory,sqlite,postgres")
    .split(",")
    .map((s) => s.trim()) as PropertyStore[];
  const firstSeed = Number(
    process.env.PI_PAYMENTS_SOAK_SEED ?? Math.floor(Math.random() * 2 ** 30),
  );
  const stats = newStats();
  const failures: string[] = [];
  const started = performance.now();
  let lastReport = started;
  for (let batch = 0; stats.ran < total; batch++) {
    const store = stores[batch % stores.length]!;
    const seed = (firstSeed + batch) % 2 ** 31;
    const result = await fc.check(noDoublePay(store, stats), {
      numRuns: Math.min(100, total - stats.ran),
      seed,
      endOnFailure: true,
    });
    if (result.failed) {
      const why = String((result.errorInstance as Error | undefined)?.message ?? "").split("\n")[0];
      const line = `FAILED store=${store} PI_PAYMENTS_PROPERTY_SEED=${result.seed} PI_PAYMENTS_PROPERTY_PATH=${result.counterexamplePath}: ${why}`;
      failures.push(line);
      console.log(line);
    }
    if (performance.now() - lastReport > 60_000) {
      lastReport = performance.now();
      console.log(`soak: ${stats.ran}/${total} runs, ${failures.length} failing seeds`);
    }
  }
  console.log(report("soak", stats, (performance.now() - started) / 1000));
  console.log(`soak: first seed ${firstSeed}, failing seeds: ${failures.length}`);
  expect(failures).toEqual([]);
}, 0);
