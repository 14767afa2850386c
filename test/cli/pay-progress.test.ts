import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { runCli, sandboxEnv } from "../helpers/cli.js";
import { testSandbox } from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-pay-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function envFor(sandbox: Sandbox, overrides: Record<string, string> = {}) {
  return {
    ...sandboxEnv(sandbox, join(dir, `pay-${n++}.db`)),
    ...overrides,
  };
}

const pay = (key: string, ...extra: string[]) => [
  "pay",
  "--key",
  key,
  "--uid",
  "user-1",
  "--amount",
  "1",
  "--memo",
  "m",
  ...extra,
];

describe("pay on the command line", { timeout: 60_000 }, () => {
  test("prints each retry on stderr as it happens, with its delay and reason", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      clock: "simulated",
      faults: [{ route: "POST /v2/payments", kind: "error", status: 500, times: 2 }],
    });
    const paid = await runCli(pay("retried", "--json"), envFor(sandbox));
    expect(paid.code).toBe(0);
    expect(JSON.parse(paid.stdout).state).toBe("completed");
    const lines = paid.stderr.trim().split("\n");
    expect(lines).toEqual([
      "retrying in 1 s: Pi refused POST /v2/payments: An unexpected error occurred (PI_UNKNOWN_ERROR)",
      "retrying in 2 s: Pi refused POST /v2/payments: An unexpected error occurred (PI_UNKNOWN_ERROR)",
    ]);
  });

  test("--timeout: stops waiting, says the payout goes on and how to follow it, exits 5", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      clock: "simulated",
      faults: [{ route: "POST /v2/payments", kind: "error", status: 503 }],
    });
    const env = envFor(sandbox);
    const started = Date.now();
    const waited = await runCli(pay("slow", "--timeout", "2", "--json"), env);
    const seconds = (Date.now() - started) / 1000;
    expect(waited.code).toBe(5);
    expect(seconds).toBeLessThan(15);
    expect(JSON.parse(waited.stdout)).toMatchObject({ key: "slow", atRest: false });
    expect(waited.stderr).toMatch(/retrying in 1 s: .*\(PI_UNKNOWN_ERROR\)/);
    expect(waited.stderr).toMatch(
      /pay stopped waiting after 2 s: payout slow \(now created\.\w+\) is saved in SQLite file .*pay-\d+\.db and goes on when `pi-payments resume`/,
    );
    expect(waited.stderr).toContain("Follow it with: pi-payments status slow");
    expect((await runCli(["status", "slow", "--json"], env)).code).toBe(0);

    // It does go on: once Pi answers, resume completes it.
    sandbox.clearFaults();
    const resumed = await runCli(["resume", "--json"], env);
    expect(JSON.parse(resumed.stdout)).toEqual([
      expect.objectContaining({ key: "slow", state: "completed" }),
    ]);
  });

  test("Pi on a closed port: pay never exits 0 without an outcome; it says where the payout is", async () => {
    const sandbox = await testSandbox();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const env = envFor(sandbox, { PI_API_URL: `http://127.0.0.1:${port}` });
    const started = Date.now();
    const run = await runCli(pay("unreachable", "--timeout", "3"), env);
    expect(run.code).toBe(5);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.stderr).toMatch(/payout unreachable \(now created\.\w+\) is saved in SQLite file/);
    expect(run.stderr).toContain("Follow it with: pi-payments status unreachable");
  });
});
