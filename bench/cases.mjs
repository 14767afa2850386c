// The benchmark cases. Each returns figures; run.mjs prints them against their goals.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Keypair } from "@stellar/stellar-sdk";
import pg from "pg";
import { createPayouts, createWorker } from "pi-payments";
import { createMemoryStore } from "pi-payments/memory";
import { createPostgresStore } from "pi-payments/postgres";
import { startSandbox } from "pi-payments/sandbox";
import { createSqliteStore } from "pi-payments/sqlite";
import {
  benchSandbox,
  channelsFor,
  connection,
  LEDGER_MS,
  officialSdkPays,
  perLedger,
  requestsPer,
  sleep,
} from "./lib.mjs";

const workdir = mkdtempSync(join(tmpdir(), "pi-payments-bench-"));
process.on("exit", () => rmSync(workdir, { recursive: true, force: true }));
const pgUrl =
  process.env.BENCH_PG_URL ??
  process.env.PI_PAYMENTS_TEST_PG_URL ??
  "postgres://postgres@127.0.0.1:5432/test";

/** A PostgreSQL store in a fresh schema, or undefined when no server answers. */
async function postgresStore() {
  const pool = new pg.Pool({ connectionString: pgUrl, max: 10, connectionTimeoutMillis: 30_000 });
  try {
    await pool.query("SELECT 1");
  } catch {
    await pool.end();
    return undefined;
  }
  const schema = `bench_${Math.random().toString(36).slice(2, 10)}`;
  return {
    store: createPostgresStore({ pool, schema }),
    drop: async () => {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

const runtimeOptions = {
  backoff: { baseDelayMs: 200, maxDelayMs: 2000 },
  slotPollMs: 50,
  pollMs: 50,
};

/** 1. Payouts per ledger: pay() and a fleet against the official SDK's algorithm, per app and per user. */
export async function throughput(count) {
  const results = {};
  for (const rule of ["app", "user"]) {
    // Ours: every payout asked at once; they queue for Pi's slot.
    {
      const sandbox = await benchSandbox({ users: count, incompleteLimit: rule });
      const payouts = createPayouts({
        ...connection(sandbox),
        store: createMemoryStore(),
        incompleteLimit: rule,
        ...runtimeOptions,
      });
      const since = sandbox.chain.latest.sequence;
      await Promise.all(
        sandbox.users.map((u, i) =>
          payouts.pay({ key: `t-${i}`, uid: u.uid, amount: 1, memo: "bench" }),
        ),
      );
      results[`pay() per ${rule}`] = perLedger(sandbox, since);
      await payouts.close();
      await sandbox.close();
    }
    // A fleet: two runtimes (two "instances") working one SQLite store.
    {
      const sandbox = await benchSandbox({ users: count, incompleteLimit: rule });
      const path = join(workdir, `fleet-${rule}.db`);
      const instances = [0, 1].map((i) =>
        createPayouts({
          ...connection(sandbox),
          store: createSqliteStore({ path }),
          incompleteLimit: rule,
          owner: `instance-${i}`,
          ...runtimeOptions,
        }),
      );
      const since = sandbox.chain.latest.sequence;
      for (const [i, u] of sandbox.users.entries())
        await instances[0].enqueue({ key: `f-${i}`, uid: u.uid, amount: 1, memo: "bench" });
      const workers = instances.map((p) => createWorker(p, { concurrency: count }));
      while (sandbox.payments().filter((p) => p.status.developer_completed).length < count)
        await sleep(50);
      results[`fleet of 2 per ${rule}`] = perLedger(sandbox, since);
      await Promise.all(workers.map((w) => w.stop()));
      await Promise.all(instances.map((p) => p.close()));
      await sandbox.close();
    }
    // The official SDK, one payout at a time.
    {
      const sandbox = await benchSandbox({ users: count, incompleteLimit: rule });
      const since = sandbox.chain.latest.sequence;
      await officialSdkPays(
        sandbox,
        sandbox.users.map((u) => u.uid),
      );
      results[`official SDK per ${rule}`] = perLedger(sandbox, since);
      await sandbox.close();
    }
  }
  return results;
}

/** 2. Channel accounts under the per-user rule, with one transaction per account per ledger. */
export async function channels(counts, payoutsPerChannel) {
  const results = {};
  for (const n of counts) {
    const total = n * payoutsPerChannel;
    const sandbox = await benchSandbox({
      users: total,
      incompleteLimit: "user",
      oneTransactionPerAccountPerLedger: true,
    });
    const payouts = createPayouts({
      ...connection(sandbox),
      store: createMemoryStore(),
      incompleteLimit: "user",
      channels: channelsFor(sandbox, n),
      ...runtimeOptions,
    });
    const since = sandbox.chain.latest.sequence;
    await Promise.all(
      sandbox.users.map((u, i) =>
        payouts.pay({ key: `c-${i}`, uid: u.uid, amount: 1, memo: "bench" }),
      ),
    );
    results[`${n} channel${n > 1 ? "s" : ""}`] = { ...perLedger(sandbox, since), channels: n };
    await payouts.close();
    await sandbox.close();
  }
  // Without channels, the same rule: the wallet's one sequence binds.
  const sandbox = await benchSandbox({
    users: 3 * payoutsPerChannel,
    incompleteLimit: "user",
    oneTransactionPerAccountPerLedger: true,
  });
  const payouts = createPayouts({
    ...connection(sandbox),
    store: createMemoryStore(),
    incompleteLimit: "user",
    ...runtimeOptions,
  });
  const since = sandbox.chain.latest.sequence;
  await Promise.all(
    sandbox.users.map((u, i) =>
      payouts.pay({ key: `n-${i}`, uid: u.uid, amount: 1, memo: "bench" }),
    ),
  );
  results["no channels"] = { ...perLedger(sandbox, since), channels: 0 };
  await payouts.close();
  await sandbox.close();
  return results;
}

/** Starts `pi-payments sandbox --json` in its own process, so its CPU is not counted as ours. */
async function sandboxProcess(users) {
  const cli = fileURLToPath(new URL("../bin/pi-payments.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [cli, "sandbox", "--json", "--ledger-interval", "20", "--users", String(users)],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const info = JSON.parse(
    await new Promise((resolve) => createInterface({ input: child.stdout }).once("line", resolve)),
  );
  const admin = async (path) => (await fetch(`${info.apiUrl}/__sandbox${path}`)).json();
  return { info, admin, stop: () => child.kill("SIGTERM") };
}

/** A Pi platform and chain that answer at once: the library's own cost, without the network. */
function instantAdapters(walletAddress) {
  let n = 0;
  const payments = new Map();
  const recipient = Keypair.random().publicKey();
  return {
    platform: {
      name: "instant",
      async createPayment(args) {
        n += 1;
        const payment = {
          identifier: `P${String(n).padStart(27, "0")}`,
          user_uid: args.uid,
          amount: Number(args.amount),
          memo: args.memo,
          metadata: args.metadata,
          from_address: walletAddress,
          to_address: recipient,
          direction: "app_to_user",
          created_at: new Date().toISOString(),
          network: "Pi Testnet",
          status: {
            developer_approved: true,
            transaction_verified: false,
            developer_completed: false,
            cancelled: false,
            user_cancelled: false,
          },
          transaction: null,
        };
        payments.set(payment.identifier, payment);
        return payment;
      },
      async getPayment(id) {
        return payments.get(id);
      },
      async approvePayment(id) {
        return payments.get(id);
      },
      async completePayment(id, txid) {
        const p = payments.get(id);
        return {
          ...p,
          status: { ...p.status, developer_completed: true },
          transaction: { txid, verified: true, _link: "" },
        };
      },
      async cancelPayment(id) {
        return payments.get(id);
      },
      async incompleteServerPayments() {
        return [];
      },
      async me() {
        return { uid: "u" };
      },
      async close() {},
    },
    chain: {
      name: "instant",
      network: "Pi Testnet",
      horizonUrl: "",
      walletAddress,
      timeBoundSeconds: 60,
      async buildPayment(request) {
        const txid = Buffer.from(request.paymentId.padEnd(32, "0")).toString("hex").slice(0, 64);
        return { envelope: "AAAA", txid, source: walletAddress, sequence: "1", maxTime: 0 };
      },
      async preparePayment(expected) {
        return { status: "built", transaction: await this.buildPayment(expected), ignored: [] };
      },
      giveBack() {},
      async submit(tx) {
        return { status: "applied", txid: tx.txid, ledger: 1 };
      },
      async fate() {
        return { status: "pending" };
      },
      async getTransaction() {
        return undefined;
      },
      async findPaymentTransaction() {
        return { found: undefined, ignored: [] };
      },
      async latestLedger() {
        return { sequence: 1, closedAt: 0 };
      },
      async account() {
        return { balance: "1000", sequence: "1" };
      },
      async close() {},
    },
  };
}

/** Library CPU per payout: machine, runtime and store only (instant adapters). */
async function coreCpu(makeStore, count) {
  const wallet = Keypair.random();
  const adapters = instantAdapters(wallet.publicKey());
  const store = await makeStore();
  if (!store) return undefined;
  const payouts = createPayouts({
    apiKey: "bench-api-key",
    walletSeed: wallet.secret(),
    network: "Pi Testnet",
    store: store.store,
    ...adapters,
    slotPollMs: 1,
  });
  // Warm the JIT up first: a long-running service runs warm.
  for (let i = 0; i < 200; i++)
    await payouts.pay({ key: `warm-up-${i}`, uid: "u", amount: 1, memo: "m" });
  const before = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i++)
    await payouts.pay({ key: `cpu-${i}`, uid: "u", amount: 1, memo: "m" });
  const cpu = process.cpuUsage(before);
  const wall = performance.now() - started;
  await payouts.close();
  await store.drop?.();
  return { cpuMs: (cpu.user + cpu.system) / 1000 / count, wallMs: wall / count };
}

/** 3. Overhead: library CPU per payout, end to end and core only; requests per payout. */
export async function overhead(count) {
  const stores = {
    memory: async () => ({ store: createMemoryStore() }),
    // The default: fsync for the saves a power cut must not undo (a new payout, a new
    // envelope, a cancel), none for the others.
    sqlite: async () => {
      const store = createSqliteStore({
        path: join(workdir, `cpu-${Math.random().toString(36).slice(2)}.db`),
      });
      return { store, drop: () => store.close() };
    },
    // Every saved step fsynced.
    "sqlite (every step)": async () => {
      const store = createSqliteStore({
        path: join(workdir, `cpu-${Math.random().toString(36).slice(2)}.db`),
        durability: "every-step",
      });
      return { store, drop: () => store.close() };
    },
    postgres: postgresStore,
  };
  const results = {};
  for (const [name, make] of Object.entries(stores)) {
    // End to end against a sandbox in another process: the library, its HTTP clients and signing.
    const made = await make();
    if (!made) {
      results[name] = { skipped: "no PostgreSQL server answered" };
      continue;
    }
    const sandbox = await sandboxProcess(count + 1);
    const payouts = createPayouts({
      apiKey: sandbox.info.apiKey,
      walletSeed: sandbox.info.walletSeed,
      network: sandbox.info.network,
      apiUrl: sandbox.info.apiUrl,
      horizonUrl: sandbox.info.horizonUrl,
      store: made.store,
      ...runtimeOptions,
      slotPollMs: 5,
    });
    await payouts.pay({ key: "warm-up", uid: sandbox.info.users[count].uid, amount: 1, memo: "m" });
    const logged = (await sandbox.admin("/requests")).length;
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++)
      await payouts.pay({ key: `e2e-${i}`, uid: sandbox.info.users[i].uid, amount: 1, memo: "m" });
    const cpu = process.cpuUsage(before);
    const log = (await sandbox.admin("/requests")).slice(logged);
    await payouts.close();
    sandbox.stop();
    await made.drop?.();
    const core = await coreCpu(make, count * 5);
    results[name] = {
      endToEndCpuMs: (cpu.user + cpu.system) / 1000 / count,
      coreCpuMs: core?.cpuMs,
      coreWallMs: core?.wallMs,
      requestsPerPayout: log.length / count,
      piRequests: log.filter((r) => r.face === "pi").length / count,
      horizonRequests: log.filter((r) => r.face === "horizon").length / count,
    };
  }
  // The official SDK's requests per payout, on the same happy path.
  const sandbox = await startSandbox({ ledgerIntervalMs: 20, users: 5 });
  await officialSdkPays(
    sandbox,
    sandbox.users.map((u) => u.uid),
  );
  const sdk = requestsPer(sandbox, 5);
  results["official SDK"] = {
    requestsPerPayout: sdk.total,
    piRequests: sdk.pi,
    horizonRequests: sdk.horizon,
  };
  await sandbox.close();
  return results;
}

/** 4. Recovery: time for resume() to take up N unfinished payouts; memory per payout in flight. */
export async function recovery(count) {
  const results = {};
  const stores = {
    sqlite: async () => {
      const path = join(workdir, `recovery-${Math.random().toString(36).slice(2)}.db`);
      return {
        make: () => createSqliteStore({ path }),
        drop: async () => {},
      };
    },
    postgres: async () => {
      const made = await postgresStore();
      if (!made) return undefined;
      return { make: () => made.store, drop: made.drop, shared: true };
    },
  };
  for (const [name, open] of Object.entries(stores)) {
    const opened = await open();
    if (!opened) {
      results[name] = { skipped: "no PostgreSQL server answered" };
      continue;
    }
    // Ledgers do not close: payouts stay in flight while we look.
    const sandbox = await startSandbox({ ledgerIntervalMs: "manual", users: 1 });
    const seeding = createPayouts({ ...connection(sandbox), store: opened.make() });
    for (let i = 0; i < count; i++) {
      await seeding.enqueue({
        key: `r-${String(i).padStart(5, "0")}`,
        uid: sandbox.users[0].uid,
        amount: 1,
        memo: "m",
      });
    }
    await seeding.close();
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const payouts = createPayouts({
      ...connection(sandbox),
      store: opened.make(),
      slotPollMs: 1000,
      leaseMs: 600_000,
    });
    const started = performance.now();
    await payouts.resume({ wait: false });
    while (payouts.active().length < count) await sleep(5);
    const tookUpMs = performance.now() - started;
    await sleep(200);
    global.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    results[name] = {
      payouts: count,
      resumeMs: tookUpMs,
      perPayoutUs: (tookUpMs * 1000) / count,
      memoryPerPayoutKiB: (heapAfter - heapBefore) / 1024 / count,
    };
    await payouts.close({ abandon: true });
    await sandbox.close();
    await opened.drop();
  }
  return results;
}

export { LEDGER_MS };
