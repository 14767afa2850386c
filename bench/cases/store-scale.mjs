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
 * The µs of each of `count` sequential calls of `op`, after a few to warm up; `before` runs
 * ahead of each call, untimed.
 */
async function microsOfCalls(count, op, before = async () => {}) {
  for (let i = 0; i < Math.min(20, count); i++) {
    await before(i);
    await op(i);
  }
  const spent = [];
  for (let i = 0; i < count; i++) {
    await before(i);
    const started = performance.now();
    await op(i);
    spent.push((performance.now() - started) * 1000);
  }
  return spent;
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

/** The keys of settled payouts the reads look up: the same walk at every size. */
function settledKeysOf({ total, every }, calls) {
  return [...randomIndexes(total, calls)]
    .map((i) => (i % every === 0 ? i - 1 || 1 : i))
    .map(seededKey);
}

/**
 * One round of the reads on one seeded store: `calls` lookups from `from` in the walk (a
 * quarter as many list pages and claims), each call's µs added to `samples[op]`.
 */
async function readRound(store, keys, from, calls, samples) {
  const key = (i) => keys[(from + i) % keys.length];
  const add = (op, spent) => samples[op].push(...spent);
  add("get", await microsOfCalls(calls, (i) => store.get(key(i))));
  add("journal(key)", await microsOfCalls(calls, (i) => store.journal(key(i))));
  add(
    "list page",
    await microsOfCalls(Math.ceil(calls / 4), (i) =>
      store.list({ atRest: false, afterKey: key(i), limit: 100 }),
    ),
  );
  // Each claimed payout is let go (untimed) so that the next claim finds the same queue.
  let claimed;
  add(
    "claimNext",
    await microsOfCalls(
      Math.ceil(calls / 4),
      async () => {
        claimed = await store.claimNext("bench", 60_000);
      },
      async () => {
        if (claimed) await store.release(claimed.key, "bench");
      },
    ),
  );
  if (claimed) await store.release(claimed.key, "bench");
}

/** µs per payout for resume() to take up every unfinished payout of a seeded store. */
async function resumeMicros(store, unsettled) {
  const payouts = stalledPayouts(store);
  const started = performance.now();
  await payouts.resume({ wait: false });
  while (payouts.active().length < unsettled) await sleep(2);
  const micros = ((performance.now() - started) * 1000) / unsettled;
  await payouts.close({ abandon: true });
  return micros;
}

/** One store kind at one size, seeded and checked, left open for measuring. */
async function seededStore(kind, total, unsettled) {
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
    return { store, seeded, seedSeconds, drop: () => store.close() };
  }
  const made = await postgresStore();
  if (!made) return undefined;
  try {
    await made.store.get("schema");
    const started = performance.now();
    const seeded = await seedPostgres(made.pool, made.schema, total, unsettled);
    const seedSeconds = (performance.now() - started) / 1000;
    await checkSeeded(made.store, seeded);
    return { store: made.store, seeded, seedSeconds, drop: made.drop };
  } catch (error) {
    await made.drop();
    throw error;
  }
}

/** Rounds of reads, each round on both sizes back to back: the machine's noise hits both. */
const ROUNDS = 5;

/**
 * 5. The store's reads and resume() at `sizes[0]` and `sizes[1]` payouts, `unsettled` of
 * them unfinished at both; µs per call, and the ratio of the larger to the smaller.
 */
export async function storeScale({ sizes, unsettled, calls }) {
  const results = {};
  for (const kind of ["sqlite", "postgres"]) {
    const small = await seededStore(kind, sizes[0], unsettled);
    if (!small) {
      results[kind] = NO_POSTGRES;
      continue;
    }
    const both = [small];
    try {
      both.push(await seededStore(kind, sizes[1], unsettled));
      // Both stores are seeded before either is measured, and measured in turns (the
      // larger first every other round): a quiet or a busy minute of the machine falls on
      // both sizes, not on one (measured one after the other, 70 s of seeding apart, the
      // smaller store's figures alone moved by 2× between two runs of the same code).
      const samples = both.map(() => Object.fromEntries(OPERATIONS.map((op) => [op, []])));
      const keys = both.map(({ seeded }) => settledKeysOf(seeded, calls));
      const perRound = Math.ceil(calls / ROUNDS);
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        for (const at of order) {
          await readRound(both[at].store, keys[at], round * perRound, perRound, samples[at]);
        }
      }
      for (const [at, { store }] of both.entries()) {
        samples[at]["resume()"].push(await resumeMicros(store, unsettled));
      }
      const us = samples.map((byOp) =>
        Object.fromEntries(OPERATIONS.map((op) => [op, median(byOp[op])])),
      );
      results[kind] = {
        sizes,
        seedSeconds: both.map((b) => b.seedSeconds),
        operations: Object.fromEntries(
          OPERATIONS.map((op) => [
            op,
            { smallUs: us[0][op], largeUs: us[1][op], ratio: us[1][op] / us[0][op] },
          ]),
        ),
      };
    } finally {
      for (const { drop } of both) await drop?.();
    }
  }
  return results;
}
