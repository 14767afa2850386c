// 3. Library CPU per payout, side by side: machine, runtime and store only (instant adapters).
import { instantPayouts } from "../instant-adapters.mjs";
import { median } from "../stats.mjs";
import { telemetryOptions } from "../telemetry.mjs";

/**
 * A side: a runtime on its own store, with or without a durable consumer and a recording
 * telemetry SDK of its own, kept all along.
 */
export async function openSide({ makeStore, consumer = false, telemetry = false }) {
  const made = await makeStore();
  const payouts = instantPayouts(made.store, telemetry ? await telemetryOptions() : {});
  const feed = consumer ? payouts.events.consume("bench", () => {}, { pollMs: 50 }) : undefined;
  return { ...made, payouts, feed, paid: 0 };
}

/**
 * Pays `count` payouts on a side and returns its library CPU and wall time per payout. With
 * a consumer, the clock stops once it has caught up: its work on these payouts counts.
 */
export async function chunk(side, count) {
  const before = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await side.payouts.pay({ key: `cpu-${side.paid++}`, uid: "u", amount: 1, memo: "m" });
  }
  if (side.feed) {
    const last = await side.store.lastPosition();
    while (side.feed.cursor < last) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  // Telemetry records in batches (up to 200 ms later): these payouts' records count here,
  // not in whichever side's chunk the batch's timer would fall in.
  side.payouts.flushTelemetry();
  const cpu = process.cpuUsage(before);
  const wall = performance.now() - started;
  // A turn of the event loop between chunks, as a service has between requests.
  await new Promise((resolve) => setImmediate(resolve));
  return { cpuMs: (cpu.user + cpu.system) / 1000 / count, wallMs: wall / count };
}

/**
 * Library CPU per payout on a fresh store, warmed up first (undefined when `makeStore` has
 * none to give): the "library alone" figure next to CPU end to end, and the memory store's.
 */
export async function cpuOnFreshStore(makeStore, count, warmUp = 200) {
  const made = await makeStore();
  if (!made) return undefined;
  const side = await openSide({ makeStore: async () => made });
  await chunk(side, warmUp);
  const figures = await chunk(side, count);
  await closeSide(side);
  return figures;
}

/**
 * Library CPU per payout of every side, taken in turns: all sides stay open (each its
 * runtime and store, warmed up first), and each round pays a chunk of `chunkPayouts` on
 * every side back to back, starting one side later each round. A chunk lasts a fraction of
 * a second, so the machine's noise (it moves a side's figure by ±20% from one second to the
 * next here) falls on all sides of a round alike; `rounds[i]` of every side is from round
 * i, and a side's ratio is taken round by round (report.mjs). Fresh stores per round, as
 * until 2026-12-04, paired rounds seconds apart, and the ratios swung by 0.1 between runs.
 */
export async function libraryCpu(sides, { rounds, chunkPayouts, warmUp }) {
  const names = Object.keys(sides);
  const open = {};
  for (const name of names) open[name] = await openSide(sides[name]);
  // Warm the JIT up first: a long-running service runs warm (see run.mjs's cpuWarmUp).
  for (const name of names) await chunk(open[name], warmUp);
  try {
    return await inTurns(names, { rounds, chunkPayouts }, (name) =>
      chunk(open[name], chunkPayouts),
    );
  } finally {
    for (const name of names) await closeSide(open[name]);
  }
}

/** Stops a side's consumer, closes its runtime and drops its store. */
export async function closeSide(side) {
  await side.feed?.stop();
  await side.payouts.close();
  await side.drop?.();
}

/**
 * Pays `rounds` rounds of one chunk per side, the sides back to back, starting one side later
 * each round (`payChunk(name)` answers a chunk's figures), and sums each side up: the median
 * CPU and wall time per payout, and every round's CPU in order (ratios are paired by round).
 */
export async function inTurns(names, { rounds, chunkPayouts }, payChunk) {
  const runs = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const shift = round % names.length;
    for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
      runs[name].push(await payChunk(name));
    }
  }
  return Object.fromEntries(
    names.map((name) => [
      name,
      {
        cpuMs: median(runs[name].map((r) => r.cpuMs)),
        wallMs: median(runs[name].map((r) => r.wallMs)),
        rounds: runs[name].map((r) => r.cpuMs),
        per: chunkPayouts,
      },
    ]),
  );
}
