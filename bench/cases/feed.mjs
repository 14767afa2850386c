// 6. The event feed: events per second a durable consumer drains from a long journal.
import { createSqliteStore } from "pi-payments/sqlite";
import { instantPayouts } from "../instant-adapters.mjs";
import { sleep } from "../lib.mjs";
import { LINES_PER_SETTLED, seedPostgres, seedSqlite } from "../seed.mjs";
import { NO_POSTGRES, postgresStore, sqlitePath } from "../stores.mjs";

/**
 * Seeds payouts whose journal lines carry the feed's view (`lines` in all), then times one
 * `payouts.events.consume(name, handler)` with a no-op handler, default options, from the
 * start until its cursor reaches the last line.
 */
async function drain(store, lines) {
  const payouts = instantPayouts(store);
  const last = await store.lastPosition();
  let seen = 0;
  // The heap the consumer keeps while it holds its name: a holder runs for days, so what it
  // keeps per event handled must be nothing.
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const consumer = payouts.events.consume("bench-drain", () => {
    seen += 1;
  });
  while (consumer.cursor < last) await sleep(1);
  const seconds = (performance.now() - started) / 1000;
  globalThis.gc?.();
  const heapKeptMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  await consumer.stop();
  await payouts.close();
  if (seen < lines) throw new Error(`The consumer saw ${seen} events of ${lines}`);
  return { events: seen, seconds, perSecond: seen / seconds, heapKeptMiB };
}

/** 6. Events/s consumed from SQLite and from PostgreSQL, out of a journal of about `lines`. */
export async function feed(lines) {
  // A tenth of the payouts unfinished, as in the scale case: 1 line each, the others 6.
  const total = Math.ceil(lines / (0.9 * LINES_PER_SETTLED + 0.1));
  const unsettled = Math.floor(total / 10);
  const results = {};
  {
    const path = sqlitePath("feed");
    const schema = createSqliteStore({ path });
    await schema.get("schema");
    await schema.close();
    await seedSqlite(path, total, unsettled, { views: true });
    const store = createSqliteStore({ path });
    results.sqlite = await drain(store, lines);
    await store.close();
  }
  const made = await postgresStore();
  if (!made) results.postgres = NO_POSTGRES;
  else {
    try {
      await made.store.get("schema");
      await seedPostgres(made.pool, made.schema, total, unsettled, { views: true });
      results.postgres = await drain(made.store, lines);
    } finally {
      await made.drop();
    }
  }
  return results;
}
