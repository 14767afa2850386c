import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { describeStore, withoutPassword } from "../../src/cli/config.js";
import { formatAge } from "../../src/cli/output.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { runCli, sandboxEnv } from "../helpers/cli.js";
import { testSandbox } from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-stores-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function envFor(sandbox: Sandbox, db = join(dir, `store-${n++}.db`)) {
  return {
    ...sandboxEnv(sandbox, db),
  };
}

describe("the store on the command line", { timeout: 60_000 }, () => {
  test.each([
    ["status", ["status", "k1"]],
    ["list", ["list"]],
    ["journal", ["journal", "k1"]],
    ["cancel", ["cancel", "k1"]],
    ["retry", ["retry", "k1"]],
  ])(
    "%s on a SQLite file that does not exist refuses, naming it, and creates nothing",
    async (_name, args) => {
      const sandbox = await testSandbox();
      const db = join(dir, `typo-${n++}.db`);
      const run = await runCli(args, envFor(sandbox, db));
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toBe(
        `pi-payments: No SQLite store at ${db}: check --db or PI_PAYMENTS_DB (nothing was created). [STORE_NOT_FOUND]`,
      );
      expect(existsSync(db)).toBe(false);
    },
  );

  test("PAYOUT_NOT_FOUND names the store it looked in", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env = envFor(sandbox);
    expect((await runCli(["migrate"], env)).code).toBe(0);
    for (const args of [
      ["status", "nope"],
      ["journal", "nope"],
      ["retry", "nope"],
    ]) {
      const run = await runCli(args, env);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        `"nope" in SQLite file ${env.PI_PAYMENTS_DB}. [PAYOUT_NOT_FOUND]`,
      );
    }
    const empty = await runCli(["list", "--state", "failed"], env);
    expect(empty.stdout.trim()).toBe(
      `No payouts in state failed in SQLite file ${env.PI_PAYMENTS_DB}.`,
    );
  });

  test("list shows each payout's user, amount and age", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env = envFor(sandbox);
    const paid = await runCli(
      ["pay", "--key", "listed", "--uid", "user-2", "--amount", "2.5", "--memo", "m"],
      env,
    );
    expect(paid.code).toBe(0);
    const listed = await runCli(["list"], env);
    const [header, row] = listed.stdout
      .split("\n")
      .filter((line) => line.includes("│"))
      .map((line) =>
        line
          .split("│")
          .map((cell) => cell.trim())
          .slice(1, -1),
      );
    expect(header).toEqual(["key", "user", "amount", "age", "payment id", "txid", "state"]);
    expect(row?.slice(0, 4)).toEqual([
      "listed",
      "user-2",
      "2.5 Pi",
      expect.stringMatching(/^\d+ s$/),
    ]);
    expect(row?.[6]).toBe("completed");
  });

  test("ages read in the largest unit that fits", () => {
    expect(formatAge(12_400)).toBe("12 s");
    expect(formatAge(3 * 60_000 + 5_000)).toBe("3 min");
    expect(formatAge(5 * 3_600_000)).toBe("5 h");
    expect(formatAge(3 * 86_400_000)).toBe("3 d");
    expect(formatAge(-50)).toBe("0 s");
  });

  test("a PostgreSQL store is named without its password", () => {
    expect(describeStore("postgres://payer:hunter2@db.example:5432/payouts", "pay")).toBe(
      "PostgreSQL postgres://payer@db.example:5432/payouts (schema pay)",
    );
    expect(withoutPassword("postgresql://db.example/p?sslmode=require&password=hunter2")).toBe(
      "postgresql://db.example/p?sslmode=require",
    );
    expect(
      withoutPassword("postgres://payer:hunter2@/payouts?host=/var/run/postgresql"),
    ).not.toContain("hunter2");
  });
});
