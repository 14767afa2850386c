import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Keypair } from "@stellar/stellar-sdk";
import { afterAll, describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { runCli, sandboxEnv } from "../helpers/cli.js";
import { testSandbox } from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-doctor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function envFor(sandbox: Sandbox, overrides: Record<string, string> = {}) {
  return {
    ...sandboxEnv(sandbox, join(dir, `doctor-${n++}.db`)),
    ...overrides,
  };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server that accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; server: Server }> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

interface Report {
  ok: boolean;
  checks: Array<{ name: string; ok: boolean; verdict: string; code?: string }>;
}

async function doctor(env: Record<string, string>, args: string[] = []) {
  const started = Date.now();
  const run = await runCli(["doctor", ...args], env);
  const seconds = (Date.now() - started) / 1000;
  return { ...run, seconds };
}

async function doctorJson(env: Record<string, string>, args: string[] = []) {
  const run = await doctor(env, ["--json", ...args]);
  const report = JSON.parse(run.stdout) as Report;
  const check = (name: string) => report.checks.find((c) => c.name === name)!;
  return { ...run, report, check };
}

function expectNoSecret(sandbox: Sandbox, text: string) {
  expect(text).not.toContain(sandbox.apiKey);
  expect(text).not.toContain(sandbox.walletSeed);
}

describe("pi-payments doctor", { timeout: 60_000 }, () => {
  test("a good setup: one ✓ line per check, exit 0, and the store is not created", async () => {
    const sandbox = await testSandbox();
    const env = envFor(sandbox);
    const run = await doctor(env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    const names = ["api key", "network", "wallet", "balance", "store"];
    for (const [i, name] of names.entries())
      expect(lines[i]).toMatch(new RegExp(`^✓ ${name} +\\S`));
    expect(run.stdout).toContain(`Pi's API at ${sandbox.apiUrl} accepts the API key`);
    expect(run.stdout).toContain(`serves "${sandbox.network}"`);
    expect(run.stdout).toContain(sandbox.walletAddress);
    // 100000 Pi less the 1 Pi reserve, in payouts of 1 Pi + 0.01 Pi.
    expect(run.stdout).toMatch(/100000 Pi; it must keep 1 Pi in reserve: about 99008 payouts/);
    expect(run.stdout).toMatch(/does not exist yet: the first pay creates it/);
    expect(lines.at(-1)).toBe("All checks passed: payouts can start.");
    expect(existsSync(env.PI_PAYMENTS_DB)).toBe(false);
    expectNoSecret(sandbox, run.stdout + run.stderr);

    const json = await doctorJson(env);
    expect(json.code).toBe(0);
    expect(json.report.ok).toBe(true);
    expect(json.report.checks.map((c) => c.name)).toEqual([
      "api key",
      "network",
      "wallet",
      "balance",
      "store",
    ]);
  });

  test("a wrong API key: the API key is refused, exit 2", async () => {
    const sandbox = await testSandbox();
    const { code, report, check, stdout } = await doctorJson(
      envFor(sandbox, { PI_API_KEY: "wrong-key-1234" }),
    );
    expect(code).toBe(2);
    expect(report.ok).toBe(false);
    expect(check("api key")).toMatchObject({ ok: false, code: "PI_UNAUTHORIZED" });
    expect(check("api key").verdict).toMatch(/^the API key is refused/);
    expect(check("network").ok).toBe(true);
    expect(stdout).not.toContain("wrong-key-1234");
    const text = await doctor(envFor(sandbox, { PI_API_KEY: "wrong-key-1234" }));
    expect(text.stdout).toMatch(/^✗ api key +the API key is refused .*\[PI_UNAUTHORIZED\]$/m);
  });

  test("Pi unreachable (a closed port): says so with the URL, fast", async () => {
    const sandbox = await testSandbox();
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, check, seconds } = await doctorJson(envFor(sandbox, { PI_API_URL: url }));
    expect(code).toBe(2);
    expect(check("api key")).toMatchObject({ ok: false, code: "PI_UNREACHABLE" });
    expect(check("api key").verdict).toContain(`Pi's API at ${url} could not be reached`);
    expect(seconds).toBeLessThan(10);
  });

  test("servers that never answer: every check ends within its timeout", async () => {
    const sandbox = await testSandbox();
    const silent = await silentServer();
    try {
      const url = `http://127.0.0.1:${silent.port}`;
      const { code, check, seconds } = await doctorJson(
        envFor(sandbox, {
          PI_API_URL: url,
          PI_HORIZON_URL: url,
          PI_PAYMENTS_DB: `postgres://u:hunter2@127.0.0.1:${silent.port}/db`,
        }),
        ["--timeout", "1"],
      );
      expect(code).toBe(2);
      expect(check("api key")).toMatchObject({ ok: false, code: "CHECK_TIMED_OUT" });
      expect(check("api key").verdict).toBe(`Pi's API at ${url} did not answer within 1 s`);
      expect(check("network")).toMatchObject({ ok: false, code: "CHECK_TIMED_OUT" });
      expect(check("wallet")).toMatchObject({ ok: false, code: "CHECK_TIMED_OUT" });
      expect(check("store").ok).toBe(false);
      expect(check("store").verdict).not.toContain("hunter2");
      // About one timeout in all (plus the process's start), not one per check, nor the
      // adapters' 20 s per request.
      expect(seconds).toBeLessThan(12);
    } finally {
      silent.server.close();
    }
  });

  test("the wrong network: Horizon serves another passphrase", async () => {
    const sandbox = await testSandbox();
    const { code, check } = await doctorJson(envFor(sandbox, { PI_NETWORK: "Pi Network" }));
    expect(code).toBe(2);
    expect(check("network")).toMatchObject({ ok: false, code: "WRONG_NETWORK" });
    expect(check("network").verdict).toContain('serves "Pi Testnet", not "Pi Network"');
  });

  test("an unfunded wallet does not exist on chain; one at its reserve can make no payout", async () => {
    const sandbox = await testSandbox();
    const fresh = Keypair.random();
    const unfunded = await doctorJson(envFor(sandbox, { PI_WALLET_SEED: fresh.secret() }));
    expect(unfunded.code).toBe(2);
    expect(unfunded.check("wallet")).toMatchObject({ ok: false, code: "ACCOUNT_NOT_FOUND" });
    expect(unfunded.check("wallet").verdict).toContain(`${fresh.publicKey()} does not exist`);
    expect(unfunded.check("balance").ok).toBe(false);
    expect(unfunded.stdout).not.toContain(fresh.secret());

    const poor = await testSandbox({ walletBalance: "1.5" });
    const low = await doctorJson(envFor(poor));
    expect(low.code).toBe(2);
    expect(low.check("wallet").ok).toBe(true);
    expect(low.check("balance")).toMatchObject({ ok: false, code: "LOW_BALANCE" });
    expect(low.check("balance").verdict).toMatch(
      /^1\.5 Pi; it must keep 1 Pi in reserve: about 0 payouts of 1 Pi \(\+0\.01 Pi fee\) left; fund the wallet$/,
    );
  });

  test("an unreachable store (PostgreSQL on a closed port): named without its password", async () => {
    const sandbox = await testSandbox();
    const port = await closedPort();
    const { code, check } = await doctorJson(
      envFor(sandbox, { PI_PAYMENTS_DB: `postgres://payer:hunter2@127.0.0.1:${port}/payouts` }),
    );
    expect(code).toBe(2);
    expect(check("store")).toMatchObject({ ok: false, code: "STORAGE_UNAVAILABLE" });
    expect(check("store").verdict).toContain(
      `PostgreSQL postgres://payer@127.0.0.1:${port}/payouts (schema pi_payments) cannot be read`,
    );
    expect(check("store").verdict).not.toContain("hunter2");
    expect(check("api key").ok).toBe(true);
  });

  test("a SQLite file in a folder that does not exist cannot be created", async () => {
    const sandbox = await testSandbox();
    const db = join(dir, "no-such-folder", "payouts.db");
    const { code, check } = await doctorJson(envFor(sandbox, { PI_PAYMENTS_DB: db }));
    expect(code).toBe(2);
    expect(check("store")).toMatchObject({ ok: false, code: "STORE_NOT_FOUND" });
    expect(check("store").verdict).toContain(db);
  });
});
