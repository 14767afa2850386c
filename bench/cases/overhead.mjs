// 3. Overhead per payout: library CPU (instant adapters) and end to end, requests per payout.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createPayouts } from "pi-payments";
import { createMemoryStore } from "pi-payments/memory";
import { startSandbox } from "pi-payments/sandbox";
import { officialSdkPays, requestsPer } from "../lib.mjs";
import { NO_POSTGRES, postgresStore, runtimeOptions, sqliteStore } from "../stores.mjs";
import { cpuOnFreshStore } from "./library-cpu.mjs";

/** Starts `pi-payments sandbox --json` in its own process, so its CPU is not counted as ours. */
async function sandboxProcess(users) {
  const cli = fileURLToPath(new URL("../../bin/pi-payments.js", import.meta.url));
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

/** 3. Overhead: library CPU per payout, end to end and core only; requests per payout. */
export async function overhead(count) {
  const stores = {
    memory: async () => ({ store: createMemoryStore() }),
    // The default: fsync for the saves a power cut must not undo (a new payout, a new
    // envelope, a cancel), none for the others.
    sqlite: async () => sqliteStore(),
    // Every saved step fsynced.
    "sqlite (every step)": async () => sqliteStore({ durability: "every-step" }),
    postgres: postgresStore,
  };
  const results = {};
  for (const [name, make] of Object.entries(stores)) {
    // End to end against a sandbox in another process: the library, its HTTP clients and signing.
    const made = await make();
    if (!made) {
      results[name] = NO_POSTGRES;
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
    const core = await cpuOnFreshStore(make, count * 5);
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
