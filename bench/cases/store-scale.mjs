// 5. Cost flat in the size of the store: the store's reads and resume() at two sizes of
// history, side by side. The unfinished payouts are as many at both sizes (a service's
// queue does not grow with its past); what grows is the completed payouts and their journal.
import { Keypair } from "@stellar/stellar-sdk";
import { createPayouts } from "pi-payments";
import { createSqliteStore } from "pi-payments/sqlite";
import { instantAdapters } from "../instant-adapters.mjs";
import { sleep } from "../lib.mjs";
import { checkSeeded, seededKey, seedPostgres, seedSqlite } from "../seed.mjs";
import { median } from "../stats.mjs";
import { NO_POSTGRES, postgresStore, sqlitePath } from "../stores.mjs";

/** The operations measured, in the order the table prints them. */
export const OPERATIONS = ["get", "claimNext", "list page", "journal(key)", "resume()"];

/** A reproducible walk over the seeded keys (the same at every size and on every store). */
function* randomIndexes(total, count) {
  let x = 12345;
  for (let n = 0; n < count; n++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    yield 1 + (x % total);
  }
}

/**
 * Median µs per call of `op` over `count` sequential calls, after a few to warm up; `before`
 * runs ahead of each call, untimed. The median, not the mean: a pause of another process
 * or a collection would otherwise weigh more than the store's own cost.
 */
async function microsPerCall(count, op, before = async () => {}) {
  for (let i = 0; i < Math.min(20, count); i++) {
    await before(i);
    await op(i);
  }
  const spent = [];
  for (let i = 0; i < count; i++) {
    await before(i);
    const started = performance.now();
    await op(i);
    spent.push(performance.now() - started);
  }
  return median(spent) * 1000;
}

/**
 * A runtime whose Pi never answers a create: resumed payouts are taken up and then wait
 * (the first for Pi, the others for the slot), so that only taking them up is timed.
 */
function stalledPayouts(store) {
  const wallet = Keypair.random();
  const adapters = instantAdapters(wallet.publicKey());
  adapters.platform.createPayment = () => new Promise(() => {});
  return createPayouts({
    apiKey: "bench-api-key",
    walletSeed: wallet.secret(),
    network: "Pi Testnet",
    store,
    ...adapters,
    slotPollMs: 600_000,
    leaseMs: 600_000,
  });
}

/** Each operation's cost on one seeded store. */
async function measure(store, seeded, calls) {
  const { total, every, unsettled } = seeded;
  const settledKeys = [...randomIndexes(total, calls)]
    .map((i) => (i % every === 0 ? i - 1 || 1 : i))
    .map(seededKey);
  const figures = {};
  figures.get = await microsPerCall(calls, (i) => store.get(settledKeys[i % calls]));
  figures["journal(key)"] = await microsPerCall(calls, (i) =>
    store.journal(settledKeys[i % calls]),
  );
  figures["list page"] = await microsPerCall(Math.ceil(calls / 4), (i) =>
    store.list({ atRest: false, afterKey: settledKeys[i % calls], limit: 100 }),
  );
  // Each claimed payout is let go (untimed) so that the next claim finds the same queue.
  let claimed;
  figures.claimNext = await microsPerCall(
    Math.ceil(calls / 4),
    async () => {
      claimed = await store.claimNext("bench", 60_000);
    },
    async () => {
      if (claimed) await store.release(claimed.key, "bench");
    },
  );
  if (claimed) await store.release(claimed.key, "bench");
  const payouts = stalledPayouts(store);
  const started = performance.now();
  await payouts.resume({ wait: false });
  while (payouts.active().length < unsettled) await sleep(2);
  figures["resume()"] = ((performance.now() - started) * 1000) / unsettled;
  await payouts.close({ abandon: true });
  return figures;
}

/** One store kind at one size: seeded, checked, measured, dropped. */
async function atSize(kind, total, unsettled, calls) {
  if (kind === "sqlite") {
    const path = sqlitePath(`scale-${total}`);
    const schema = createSqliteStore({ path });
    await schema.get("schema"); // makes the tables
    await schema.close();
    const started = performance.now();
    const seeded = await seedSqlite(path, total, unsettled);
    const seedSeconds = (performance.now() - started) / 1000;
    const store = createSqliteStore({ path });
    await checkSeeded(store, seeded);
    const figures = await measure(store, seeded, calls);
    await store.close();
    return { seedSeconds, figures };
  }
  const made = await postgresStore();
  if (!made) return undefined;
  try {
    await made.store.get("schema");
    const started = performance.now();
    const seeded = await seedPostgres(made.pool, made.schema, total, unsettled);
    const seedSeconds = (performance.now() - started) / 1000;
    await checkSeeded(made.store, seeded);
    return { seedSeconds, figures: await measure(made.store, seeded, calls) };
  } finally {
    await made.drop();
  }
}

/**
 * 5. The store's reads and resume() at `sizes[0]` and `sizes[1]` payouts, `unsettled` of
 * them unfinished at both; µs per call, and the ratio of the larger to the smaller.
 */
export async function storeScale({ sizes, unsettled, calls }) {
  const results = {};
  for (const kind of ["sqlite", "postgres"]) {
    const small = await atSize(kind, sizes[0], unsettled, calls);
    if (!small) {
      results[kind] = NO_POSTGRES;
      continue;
    }
    const large = await atSize(kind, sizes[1], unsettled, calls);
    results[kind] = {
      sizes,
      seedSeconds: [small.seedSeconds, large.seedSeconds],
      operations: Object.fromEntries(
        OPERATIONS.map((op) => [
          op,
          {
            smallUs: small.figures[op],
            largeUs: large.figures[op],
            ratio: large.figures[op] / small.figures[op],
          },
        ]),
      ),
    };
  }
  return results;
}
