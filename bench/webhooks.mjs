// Webhook deliveries per second: 2,000 events of a SQLite store relayed to a keep-alive
// receiver on loopback that verifies every signature. `node bench/webhooks.mjs` runs it
// alone; the main bench imports `webhooks()`.
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createPayouts, createWebhookRelay, verifyWebhook } from "pi-payments";
import { startSandbox } from "pi-payments/sandbox";
import { createSqliteStore } from "pi-payments/sqlite";

const SECRET = "bench-webhook-secret-0123456789abcdef";

/** A receiver that verifies each request and counts distinct event ids. */
async function startReceiver() {
  const seen = new Set();
  let failures = 0;
  let waiter;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      try {
        const event = verifyWebhook(
          Buffer.concat(chunks),
          req.headers["pi-payments-signature"],
          SECRET,
        );
        seen.add(event.id);
        res.writeHead(204).end();
      } catch {
        failures += 1;
        res.writeHead(400).end();
      }
      waiter?.();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}/hooks`,
    seen,
    failures: () => failures,
    until: (count) =>
      new Promise((resolve) => {
        waiter = () => seen.size >= count && resolve();
        waiter();
      }),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Measures webhook deliveries per second from a SQLite store of `events` events (one per
 * enqueued payout) to a local receiver, through `createWebhookRelay`. Returns the figures.
 */
export async function webhooks({ events = 2000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "pi-payments-bench-hooks-"));
  const sandbox = await startSandbox({ ledgerIntervalMs: "manual", clock: "simulated", seed: 7 });
  const store = createSqliteStore({ path: join(dir, "hooks.db") });
  const payouts = createPayouts({
    apiKey: sandbox.apiKey,
    walletSeed: sandbox.walletSeed,
    network: sandbox.network,
    apiUrl: sandbox.apiUrl,
    horizonUrl: sandbox.horizonUrl,
    store,
  });
  const receiver = await startReceiver();
  try {
    for (let i = 0; i < events; i++) {
      await payouts.enqueue({ key: `hook-${i}`, uid: `user-${i % 50}`, amount: "1", memo: "m" });
    }
    const started = performance.now();
    const relay = createWebhookRelay(payouts, { url: receiver.url, secret: SECRET });
    await receiver.until(events);
    const seconds = (performance.now() - started) / 1000;
    await relay.stop();
    const figures = {
      events,
      seconds,
      perSecond: events / seconds,
      badSignatures: receiver.failures(),
    };
    console.log(
      `webhooks: ${events} events delivered in ${seconds.toFixed(2)} s, ${figures.perSecond.toFixed(0)}/s (goal ≥ 500/s: ${figures.perSecond >= 500 ? "met" : "missed"}; ${figures.badSignatures} bad signatures)`,
    );
    return figures;
  } finally {
    await payouts.close();
    await store.close();
    await receiver.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await webhooks();
