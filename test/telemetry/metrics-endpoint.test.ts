import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { runCli, sandboxEnv, startCli } from "../helpers/cli.js";
import { testPayouts } from "../helpers/payouts.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";

const db = join(tmpdir(), `pi-metrics-${process.pid}-${Date.now()}.db`);
afterAll(() => {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(db + suffix, { force: true });
});

function envFor(sandbox: Sandbox) {
  return {
    ...sandboxEnv(sandbox, db),
  };
}

// Runs the built command line (npm run build first), as users do.
describe("pi-payments worker --metrics-port", { timeout: 120_000 }, () => {
  test("serves the worker's metrics in Prometheus text format, scraped over HTTP", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      clock: "simulated",
      walletBalance: "500",
    });
    const store = createSqliteStore({ path: db });
    const host = testPayouts(sandbox, { store });
    for (const key of ["scrape-1", "scrape-2"]) {
      await host.enqueue({ key, uid: sandbox.users[0]!.uid, amount: 2, memo: "m" });
    }
    await host.close();
    await store.close();

    const worker = startCli(
      ["worker", "--json", "--metrics-port", "0", "--poll-ms", "10"],
      envFor(sandbox),
    );
    const announced = JSON.parse(await worker.line("stdout", /"metrics"/)) as { metrics: string };
    expect(announced.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    await eventually(() => worker.stdout().split('"state":"completed"').length - 1 >= 2, {
      timeoutMs: 30_000,
    });

    const response = await fetch(announced.metrics);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    // The exporter adds the instrumentation scope to every series (otel_scope_name).
    const series = (name: string, labels: string, value: string) =>
      new RegExp(`^${name}\\{${labels}(,[^}]*)?\\} ${value}$`, "m");
    expect(text).toMatch(
      series("pi_payments_payouts_total", 'pi_payments_outcome="completed"', "2"),
    );
    expect(text).toMatch(
      series("pi_payments_payout_duration_count", 'pi_payments_outcome="completed"', "2"),
    );
    expect(text).toMatch(
      series("pi_payments_step_duration_count", 'pi_payments_step="completePiPayment"', "2"),
    );
    expect(text).toMatch(
      series("pi_payments_payouts_active", 'pi_payments_state="submitted"', "0"),
    );
    // 500 less two payouts of 2 and their fees.
    expect(text).toMatch(
      series("pi_payments_wallet_balance", 'pi_network="Pi Testnet"', "49\\d(\\.\\d+)?"),
    );
    expect(text).not.toContain(sandbox.walletSeed);
    expect(text).not.toContain(sandbox.apiKey);
    expect(text).not.toContain("scrape-1");

    expect((await fetch(announced.metrics.replace("/metrics", "/other"))).status).toBe(404);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
  });

  test("a port in use is refused with a code and what to do", async () => {
    const sandbox = await testSandbox();
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const { port } = busy.address() as { port: number };
    try {
      const run = await runCli(["worker", "--metrics-port", String(port)], envFor(sandbox));
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain("METRICS_UNAVAILABLE");
      expect(run.stderr).toContain("--metrics-port");
    } finally {
      busy.close();
    }
  });
});
