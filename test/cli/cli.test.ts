import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Keypair } from "@stellar/stellar-sdk";
import { afterAll, describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { runCli, sandboxEnv, startCli } from "../helpers/cli.js";
import { testSandbox } from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function envFor(sandbox: Sandbox, db = join(dir, `cli-${n++}.db`)) {
  return {
    ...sandboxEnv(sandbox, db),
  };
}

const commands = [
  "demo",
  "sandbox",
  "doctor",
  "pay",
  "status",
  "list",
  "journal",
  "resume",
  "recover",
  "cancel",
  "retry",
  "worker",
  "migrate",
  "events",
  "relay",
];

// Each test starts CLI processes (about 0.6 s each alone); under a full parallel run on a
// small CI machine they take several times longer, so these get a wider timeout.
describe("the pi-payments command line", { timeout: 120_000 }, () => {
  test.each(commands)("%s --help explains itself", async (command) => {
    const { code, stdout } = await runCli([command, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: pi-payments ${command}`);
  });

  test("pay, status, list, journal: a payout from the command line, in tables and JSON", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env = envFor(sandbox);
    const paid = await runCli(
      [
        "pay",
        "--key",
        "cli-1",
        "--uid",
        "user-1",
        "--amount",
        "2.5",
        "--memo",
        "hi",
        "--metadata",
        '{"order":7}',
        "--json",
      ],
      env,
    );
    expect(paid.code).toBe(0);
    const payout = JSON.parse(paid.stdout);
    expect(payout).toMatchObject({
      key: "cli-1",
      state: "completed",
      amount: "2.5",
      metadata: { order: 7 },
    });

    const byKey = await runCli(["status", "cli-1"], env);
    expect(byKey.stdout).toContain(payout.txid);
    const byPaymentId = await runCli(["status", payout.paymentId, "--json"], env);
    expect(JSON.parse(byPaymentId.stdout).key).toBe("cli-1");
    expect((await runCli(["list", "--state", "completed"], env)).stdout).toContain("cli-1");
    const journal = JSON.parse((await runCli(["journal", "cli-1", "--json"], env)).stdout);
    expect(journal.at(-1)).toMatchObject({ to: "completed" });
    expect((await runCli(["journal", "cli-1"], env)).stdout).toContain("createPiPayment.done");
  });

  test("PI_CHANNEL_SEEDS sends the transaction through a channel account; the wallet still pays", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const channel = Keypair.random();
    sandbox.chain.createAccount(channel.publicKey(), 100n * 10_000_000n);
    const env = { ...envFor(sandbox), PI_CHANNEL_SEEDS: ` ${channel.secret()} ,` };
    const paid = await runCli(
      ["pay", "--key", "ch-1", "--uid", "user-1", "--amount", "1", "--memo", "m", "--json"],
      env,
    );
    expect(paid.code).toBe(0);
    const { txid } = JSON.parse(paid.stdout);
    expect(sandbox.chain.transaction(txid)?.sourceAccount).toBe(channel.publicKey());
    expect(sandbox.ledgerPayments()).toEqual([
      expect.objectContaining({ txid, from: sandbox.walletAddress }),
    ]);
    expect(paid.stdout + paid.stderr).not.toContain(channel.secret());
  });

  test("a failed payout exits 3 with its reason; retry after the fix exits 0; cancel exits 4", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      clock: "simulated",
      walletBalance: "3",
    });
    const env = envFor(sandbox);
    const failed = await runCli(
      ["pay", "--key", "big", "--uid", "user-1", "--amount", "50", "--memo", "m", "--json"],
      env,
    );
    expect(failed.code).toBe(3);
    expect(JSON.parse(failed.stdout).failure.code).toBe("INSUFFICIENT_FUNDS");
    expect((await runCli(["list", "--state", "failed", "--json"], env)).stdout).toContain('"big"');
    sandbox.chain.accounts.get(sandbox.walletAddress)!.balance += 1_000n * 10_000_000n;
    expect((await runCli(["retry", "big"], env)).code).toBe(0);

    const blocked = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env2 = envFor(blocked);
    blocked.platform.createA2U(
      { payment: { amount: 1, memo: "foreign", metadata: {}, uid: "user-2" } },
      Date.now(),
    );
    expect(
      (
        await runCli(
          ["pay", "--key", "stuck", "--uid", "user-1", "--amount", "1", "--memo", "m"],
          env2,
        )
      ).code,
    ).toBe(3);
    const recovered = await runCli(["recover"], env2);
    expect(recovered.stdout).toMatch(/Foreign: \w{28}/);
    expect((await runCli(["cancel", "stuck"], env2)).code).toBe(4);
  });

  test("resume drives unfinished payouts; migrate prepares a store", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env = envFor(sandbox);
    expect((await runCli(["resume"], env)).stdout).toContain("Nothing to resume");
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain("up to date");
  });

  test.each([
    ["PI_API_KEY", { PI_API_KEY: "" }, /PI_API_KEY is not set/],
    ["PI_WALLET_SEED", { PI_WALLET_SEED: "" }, /PI_WALLET_SEED is not set/],
    [
      "a malformed PI_WALLET_SEED",
      { PI_WALLET_SEED: "SNOT-A-SEED-BUT-SECRET-LOOKING-123" },
      /PI_WALLET_SEED is not a wallet secret seed/,
    ],
    [
      "a malformed PI_CHANNEL_SEEDS",
      { PI_CHANNEL_SEEDS: `${Keypair.random().secret()},SNOT-A-SEED-BUT-SECRET-LOOKING-123` },
      /PI_CHANNEL_SEEDS holds something that is not a secret seed \(entry 2\)/,
    ],
    ["PI_NETWORK", { PI_NETWORK: "Pi Mainnet" }, /PI_NETWORK \(or --network\) must be/],
    [
      "PI_API_URL",
      { PI_API_URL: "api.minepi.com" },
      /PI_API_URL \(or --api-url\) must be an http\(s\) URL/,
    ],
  ])(
    "a missing or malformed %s is one line naming it, exit 1, no stack, no secret",
    async (_name, overrides, message) => {
      const sandbox = await testSandbox();
      const env = { ...envFor(sandbox), ...overrides };
      const { code, stdout, stderr } = await runCli(
        ["pay", "--key", "k", "--uid", "user-1", "--amount", "1", "--memo", "m"],
        env,
      );
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toMatch(message);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stderr).not.toContain("SNOT-A-SEED-BUT-SECRET-LOOKING-123");
      expect(stderr).not.toContain(sandbox.walletSeed);
      expect(stderr).not.toContain(sandbox.apiKey);
    },
  );

  test("bad flags are one line and exit non-zero; bad input to pay is a typed validation error", async () => {
    const sandbox = await testSandbox();
    const env = envFor(sandbox);
    const missing = await runCli(["pay", "--key", "k"], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/required option/);
    const bad = await runCli(
      ["pay", "--key", "k", "--uid", "user-1", "--amount", "1e3", "--memo", "m"],
      env,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/INVALID_AMOUNT/);
    expect(sandbox.requests()).toEqual([]);
    expect((await runCli(["migrate"], env)).code).toBe(0);
    const wrongSeed = await runCli(["list"], { ...env, PI_WALLET_SEED: Keypair.random().secret() });
    expect(wrongSeed.code).toBe(0);
  });

  test.each([
    ["PI_API_URL ending in /v2", (url: string) => ({ env: { PI_API_URL: `${url}/v2` }, args: [] })],
    [
      "PI_API_URL ending in /v2/",
      (url: string) => ({ env: { PI_API_URL: `${url}/v2/` }, args: [] }),
    ],
    ["--api-url ending in /v2", (url: string) => ({ env: {}, args: ["--api-url", `${url}/v2`] })],
  ])("%s pays as the URL without it does", async (_name, given) => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const { env, args } = given(sandbox.apiUrl);
    const paid = await runCli(
      ["pay", "--key", "v2", "--uid", "user-1", "--amount", "1", "--memo", "m", "--json", ...args],
      { ...envFor(sandbox), ...env },
    );
    expect(paid.stderr).toBe("");
    expect(paid.code).toBe(0);
    expect(JSON.parse(paid.stdout)).toMatchObject({ state: "completed", failure: null });
    expect(sandbox.requests().every((r) => !r.path.startsWith("/v2/v2"))).toBe(true);
  });

  test("sandbox prints the Pi API URL exactly as its export line sets PI_API_URL", async () => {
    const running = startCli(["sandbox", "--ledger-interval", "1000"]);
    const exported = await running.line("stdout", /^\s+export PI_API_KEY=/);
    const printed = (await running.line("stdout", /^\s+Pi API:/)).trim().split(/\s+/)[2];
    const fromExport = /PI_API_URL=(\S+)/.exec(exported)?.[1];
    expect(printed).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(printed).toBe(fromExport);
    running.child.kill("SIGINT");
    expect(await running.exited).toBe(0);
  });

  test("a Pi message that ends with a full stop is printed with one, never '..'", async () => {
    // The sandbox answers "No such endpoint." on an unknown path under /v2: a wrong API URL.
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env = { ...envFor(sandbox), PI_API_URL: `${sandbox.apiUrl}/v2/not-pi` };
    const paid = await runCli(
      ["pay", "--key", "dots", "--uid", "user-1", "--amount", "1", "--memo", "m"],
      env,
    );
    expect(paid.code).toBe(3);
    expect(paid.stdout).toContain("No such endpoint. ");
    const faulty = await testSandbox({
      ledgerIntervalMs: 10,
      clock: "simulated",
      faults: [{ route: "POST /v2/payments", kind: "error", status: 500, times: 1 }],
    });
    const retried = await runCli(
      ["pay", "--key", "dots", "--uid", "user-1", "--amount", "1", "--memo", "m"],
      envFor(faulty),
    );
    expect(retried.code).toBe(0);
    expect(retried.stderr).toMatch(/An unexpected error occurred \(PI_UNKNOWN_ERROR\)/);
    const bad = await runCli(
      ["pay", "--key", "k", "--uid", "user-1", "--amount", "1.", "--memo", "m"],
      envFor(faulty),
    );
    expect(bad.stderr).toMatch(/ends with a point/);
    for (const text of [paid.stdout, paid.stderr, retried.stderr, bad.stderr]) {
      expect(text).not.toMatch(/[^.]\.\.(?!\.)/);
    }
  });

  test("demo --json pays every sandbox user once", async () => {
    const { code, stdout } = await runCli(
      ["demo", "--count", "4", "--db", join(dir, "demo.db"), "--json"],
      {},
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.check).toEqual({
      payouts: 4,
      completed: 4,
      paidOnce: 4,
      doublePays: 0,
      unpaid: 0,
    });
  });
});
