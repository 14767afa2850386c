import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, test } from "vitest";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { runCli } from "../helpers/cli.js";
import { testPayouts } from "../helpers/payouts.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-cli-hook-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a payout whose onSettled keeps failing, on the command line", () => {
  test("status and list say that the host's hook fails, how often, and when it is tried again", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 5, clock: "simulated" });
    const path = join(dir, "shop.db");
    const db = new Database(path);
    const payouts = testPayouts(sandbox, {
      store: createSqliteStore({ database: db }),
      backoff: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
      onSettled: () => {
        throw new Error("orders table is missing");
      },
    });
    payouts
      .pay({ key: "stuck", uid: sandbox.users[0]!.uid, amount: "1", memo: "m" })
      .catch(() => undefined);
    await eventually(async () => (await payouts.get("stuck"))?.hookFailure != null);
    await payouts.close({ abandon: true });
    db.close();

    const env = { PI_PAYMENTS_DB: path };
    const status = await runCli(["status", "stuck"], env);
    expect(status.stdout).toMatch(
      /onSettled\s.*failed 1× \(.*orders table is missing\); the final step is tried again at 20\d\d-/,
    );
    const list = await runCli(["list"], env);
    expect(list.stdout).toContain("txStored, onSettled failing (1×)");
    const json = JSON.parse((await runCli(["status", "stuck", "--json"], env)).stdout);
    expect(json.hookFailure).toMatchObject({ attempts: 1, error: { code: "ON_SETTLED_FAILED" } });
  });
});
