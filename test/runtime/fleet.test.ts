import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { openStore } from "../../src/cli/config.js";
import { createPayouts } from "../../src/index.js";
import { cliPath, sandboxEnv } from "../helpers/cli.js";
import { realPostgresUrl } from "../helpers/postgres.js";
import { testSandbox } from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-fleet-"));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

const PAYOUTS = Number(process.env.PI_PAYMENTS_FLEET_PAYOUTS ?? 500);

/**
 * A fleet of `pi-payments worker` processes drains one queue on one store (the machine's
 * PostgreSQL in CI, a SQLite file on a laptop without one). One is killed with SIGKILL
 * mid-run and a new one started.
 */
test(`a fleet of 4 workers pays ${PAYOUTS} payouts once each, through a SIGKILL`, async () => {
  const sandbox = await testSandbox({ users: 25, ledgerIntervalMs: 5, requestLogLimit: 0 });
  const location = realPostgresUrl ?? join(dir, "fleet.db");
  const schema = `fleet_${randomBytes(4).toString("hex")}`;
  const store = openStore(location, schema);
  const env = {
    ...process.env,
    ...sandboxEnv(sandbox, location),
    PI_PAYMENTS_SCHEMA: schema,
  };
  const queue = createPayouts({
    apiKey: sandbox.apiKey,
    walletSeed: sandbox.walletSeed,
    network: sandbox.network,
    apiUrl: sandbox.apiUrl,
    horizonUrl: sandbox.horizonUrl,
    store,
  });
  for (let i = 0; i < PAYOUTS; i++) {
    await queue.enqueue({
      key: `fleet-${String(i).padStart(4, "0")}`,
      uid: `user-${(i % 25) + 1}`,
      amount: `1.${String(i % 100).padStart(2, "0")}`,
      memo: `fleet payout ${i}`,
    });
  }

  const exits = new Map<ChildProcess, Promise<number | null>>();
  const startWorker = () => {
    const child = spawn(
      process.execPath,
      [
        cliPath,
        "worker",
        "--concurrency",
        "4",
        "--poll-ms",
        "5",
        "--lease-ms",
        "1000",
        "--time-bound",
        "60",
      ],
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    children.add(child);
    exits.set(child, new Promise((resolve) => child.on("exit", (code) => resolve(code))));
    return child;
  };
  const started = performance.now();
  const workers = [startWorker(), startWorker(), startWorker(), startWorker()];

  /** Where the fleet stands, for a run that did not finish: who holds the slot, and since when. */
  const where = async () => {
    const holder = await store.slotHolder(`app:${sandbox.walletAddress}`);
    const payout = holder ? await store.get(holder) : undefined;
    const tail = holder ? (await store.journal(holder)).slice(-3) : [];
    const lines = tail.map((j) => `${j.at} ${j.owner} ${j.event} -> ${j.to}`).join("; ");
    const alive = workers.filter((w) => w.exitCode === null && w.signalCode === null);
    return `slot holder ${holder ?? "none"} (${payout?.stateDetail}, lease ${JSON.stringify(payout?.lease)}), its last lines: ${lines}; workers alive ${alive.map((w) => w.pid).join(",")}, killed ${[...victims].join(",")}`;
  };
  const settled = async () => (await store.list({ atRest: true, limit: PAYOUTS + 1 })).length;
  // Generous: in CI the whole suite shares two cores with these four workers.
  const deadline = Date.now() + 360_000;
  let killed = false;
  const victims = new Set<number | undefined>();
  for (let done = await settled(); done < PAYOUTS; done = await settled()) {
    if (Date.now() > deadline)
      throw new Error(`only ${done} of ${PAYOUTS} payouts settled in time; ${await where()}`);
    if (!killed && done >= PAYOUTS * 0.3) {
      // Kill the worker driving the payout that holds the wallet's slot, mid-flight.
      const holder = await store.slotHolder(`app:${sandbox.walletAddress}`);
      const owner = holder ? (await store.journal(holder)).at(-1)?.owner : undefined;
      const victim = workers.find(
        (w) => !victims.has(w.pid) && owner?.split(":")[1] === String(w.pid),
      );
      if (victim && (await store.get(holder!))?.atRest === false) {
        victims.add(victim.pid);
        victim.kill("SIGKILL");
        workers.push(startWorker());
        await exits.get(victim);
        // The payout may have come to rest between the read and the kill: then the kill hit
        // nothing in flight and proves nothing; the next holder's worker is killed instead.
        killed = (await store.get(holder!))?.atRest === false;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const elapsed = (performance.now() - started) / 1000;

  // A graceful stop: every live worker exits 0 on SIGTERM.
  const live = workers.filter((w) => !victims.has(w.pid));
  for (const worker of live) worker.kill("SIGTERM");
  expect(await Promise.all(live.map((w) => exits.get(w)))).toEqual(live.map(() => 0));

  const payouts = await store.list({ limit: PAYOUTS + 1 });
  const lost = payouts.filter((p) => p.state !== "completed");
  const keyOf = new Map(
    sandbox.payments().map((p) => [p.identifier, String(p.metadata?.pi_payments_key)]),
  );
  const perKey = new Map<string, number>();
  for (const paid of sandbox.ledgerPayments()) {
    const key = keyOf.get(paid.memo ?? "") ?? "?";
    perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  const doublePays = [...perKey.values()].filter((n) => n > 1).length;

  let takeovers = 0;
  let interleaved = 0;
  const openIntervals: Array<[number, number]> = [];
  for (const payout of payouts) {
    const journal = await store.journal(payout.key);
    // The first line is the enqueuing process's; the workers' lines follow.
    const owners = journal
      .slice(1)
      .map((j) => j.owner)
      .filter((o): o is string => o !== null);
    const runs = owners.filter((owner, i) => i === 0 || owner !== owners[i - 1]);
    if (new Set(runs).size > 1) takeovers += 1;
    if (runs.length !== new Set(runs).size) interleaved += 1;
    const opened = journal.find((j) => j.to === "created.creating");
    const closed = journal.find((j) => j.to === "completed");
    if (opened && closed) openIntervals.push([Date.parse(opened.at), Date.parse(closed.at)]);
  }
  openIntervals.sort((a, b) => a[0] - b[0]);
  const overlapping = openIntervals.filter(
    (interval, i) => i > 0 && interval[0] < openIntervals[i - 1]![1],
  ).length;

  console.log(
    `fleet (${realPostgresUrl ? "PostgreSQL" : "SQLite"}): payouts ${PAYOUTS}, elapsed ${elapsed.toFixed(1)} s, double pays ${doublePays}, lost ${lost.length}, takeovers ${takeovers}, driven by two workers at once ${interleaved}, overlapping open payments ${overlapping}`,
  );
  expect(lost).toEqual([]);
  expect(doublePays).toBe(0);
  expect(sandbox.ledgerPayments()).toHaveLength(PAYOUTS);
  expect(interleaved).toBe(0);
  expect(overlapping).toBe(0);
  expect(takeovers).toBeGreaterThan(0);

  await queue.close();
  await store.close();
  if (realPostgresUrl) {
    const pg = await import("pg");
    const pool = new pg.default.Pool({ connectionString: realPostgresUrl });
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  }
}, 420_000);
