import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import type { FaultRule, Sandbox } from "../../src/sandbox/index.js";
import { testSandbox } from "../helpers/sandbox.js";

const payer = fileURLToPath(new URL("../fixtures/crash-payer.mjs", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pi-payments-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  lines: string[];
  killed: boolean;
}

/** Runs the payer; kills it with SIGKILL when it announces its crash point, or when `killWhen` says so. */
function runPayer(
  sandbox: Sandbox,
  args: string[],
  killWhen?: () => boolean,
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [payer, ...args], {
      cwd: root,
      env: { ...process.env, ...env, SANDBOX_INFO: JSON.stringify(sandbox.info()) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const run: Run = { lines: [], killed: false };
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const kill = () => {
      if (!run.killed) {
        run.killed = true;
        child.kill("SIGKILL");
      }
    };
    createInterface({ input: child.stdout }).on("line", (line) => {
      run.lines.push(line);
      if (line.startsWith("AT ")) kill();
    });
    const watcher = killWhen
      ? setInterval(() => {
          if (killWhen()) kill();
        }, 1)
      : undefined;
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`payer timed out; stderr: ${stderr}`));
    }, 90_000);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (watcher) clearInterval(watcher);
      if (code !== 0 && signal !== "SIGKILL")
        reject(new Error(`payer exited with ${code}: ${stderr}`));
      else resolve(run);
    });
  });
}

const inFlight = (sandbox: Sandbox, path: RegExp) => () =>
  sandbox.requests().some((r) => r.method === "POST" && path.test(r.path) && r.status === 0);

const crashPoints: Array<{
  name: string;
  at?: string;
  faults?: FaultRule[];
  killWhen?: (s: Sandbox) => () => boolean;
}> = [
  { name: "after create, before the payment id is stored", at: "effect:end createPiPayment" },
  { name: "after signing, before the envelope is stored", at: "effect:end buildTransaction" },
  { name: "after the envelope is stored, before submit", at: "effect:start submitTransaction" },
  {
    name: "after submit, before the ledger confirms",
    faults: [{ route: "POST /transactions", kind: "latency", ms: 300 }],
    killWhen: (s) => inFlight(s, /^\/transactions$/),
  },
  { name: "after confirmation, before it is stored", at: "effect:end submitTransaction" },
  { name: "after confirmation is stored, before complete", at: "effect:start completePiPayment" },
  {
    name: "during complete",
    faults: [{ route: "POST /v2/payments/*/complete", kind: "latency", ms: 300 }],
    killWhen: (s) => inFlight(s, /\/complete$/),
  },
];

describe("a real process paying on SQLite, killed with SIGKILL", () => {
  test.each(crashPoints)(
    "$name: a new process resumes, each payout paid exactly once and completed",
    async (point) => {
      const sandbox = await testSandbox({ ledgerIntervalMs: 20, faults: point.faults ?? [] });
      const db = join(dir, `${point.name.replace(/\W+/g, "-")}.db`);

      const crashed = await runPayer(
        sandbox,
        ["pay", db, point.at ?? ""],
        point.killWhen?.(sandbox),
      );
      expect(crashed.killed).toBe(true);
      if (point.at) expect(crashed.lines).toContain(`AT ${point.at}`);

      sandbox.clearFaults();
      const resumed = await runPayer(sandbox, ["resume", db]);
      expect(resumed.killed).toBe(false);
      const results = JSON.parse(resumed.lines.at(-1)!) as Array<{
        key: string;
        state: string;
        txid: string;
        paymentId: string;
      }>;
      expect(results.map((r) => r.state).sort()).toEqual(["completed", "completed", "completed"]);

      const paid = sandbox.ledgerPayments();
      expect(paid).toHaveLength(3);
      for (const result of results) {
        expect(paid.filter((p) => p.memo === result.paymentId).map((p) => p.txid)).toEqual([
          result.txid,
        ]);
        const pi = sandbox.payments().find((p) => p.identifier === result.paymentId)!;
        expect(pi.status.developer_completed).toBe(true);
        expect(pi.metadata?.pi_payments_key).toBe(result.key);
      }
      expect(sandbox.payments().filter((p) => !p.status.cancelled)).toHaveLength(3);
    },
  );
});

describe("a restart on the same host after a SIGKILL", () => {
  test("takes the dead process's leases over at once, journaled, instead of waiting them out", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 20 });
    const db = join(dir, "restart-takeover.db");
    // The library's default lease (30 s) and owner name, as an app would run it.
    const env = { LEASE_MS: "default" };
    const crashed = await runPayer(
      sandbox,
      ["pay", db, "effect:start submitTransaction"],
      undefined,
      env,
    );
    expect(crashed.killed).toBe(true);

    const started = performance.now();
    const resumed = await runPayer(sandbox, ["resume", db], undefined, env);
    const elapsed = performance.now() - started;
    const firstStep = Number(
      resumed.lines.find((l) => l.startsWith("FIRST_STEP "))?.split(" ")[1] ?? Number.NaN,
    );
    console.log(
      `restart after SIGKILL: first step ${firstStep} ms after resume() was called, process done in ${Math.round(elapsed)} ms`,
    );
    // Restart-to-resumed: the new process moves a payout on within a second of resuming,
    // where waiting out the dead process's leases would take 30 s.
    expect(firstStep).toBeLessThan(1_000);
    const results = JSON.parse(resumed.lines.at(-1)!) as Array<{ state: string; key: string }>;
    expect(results.map((r) => r.state)).toEqual(["completed", "completed", "completed"]);
    expect(sandbox.ledgerPayments()).toHaveLength(3);

    const { createSqliteStore } = await import("../../src/storage/sqlite-store.js");
    const store = createSqliteStore({ path: db });
    try {
      for (const { key } of results) {
        const takeover = (await store.journal(key)).filter((e) => e.event === "TAKEOVER");
        expect(takeover, `${key} taken over once`).toHaveLength(1);
        expect(takeover[0]?.details).toMatchObject({ reason: "its process is gone" });
      }
    } finally {
      await store.close();
    }
  });
});
