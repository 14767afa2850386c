import { type Command, Option } from "commander";
import { createPayouts, type Payout } from "../../runtime/index.js";
import { startSandbox } from "../../sandbox/index.js";
import { createSqliteStore } from "../../storage/sqlite-store.js";
import { startInspector } from "../inspect.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";
import { createProgress, payoutTable } from "../output.js";

interface DemoFlags {
  inspect?: boolean;
  count: number;
  db: string;
  ledgerInterval: number;
  incompleteLimit: "app" | "user";
  json?: boolean;
}

/** What the demo proves about the sandbox's ledger: each payout paid once, as asked. */
export interface LedgerCheck {
  payouts: number;
  completed: number;
  paidOnce: number;
  doublePays: number;
  unpaid: number;
}

/**
 * `pi-payments demo`: the whole product on the embedded default, offline. An in-process
 * sandbox with fast ledgers, SQLite in `./pi-payments-demo.db`, N sandbox users paid at
 * once (they queue for Pi's one-incomplete-payment slot), then a table and a ledger check.
 */
export function demoCommand(program: Command, io: CliIo): void {
  program
    .command("demo")
    .description("pay sandbox users end to end: in-process Pi sandbox, SQLite store, ledger check")
    .option("-n, --count <n>", "users to pay", parseIntOption("count"), 10)
    .option("--db <path>", "SQLite file for the payouts", "pi-payments-demo.db")
    .option(
      "--ledger-interval <ms>",
      "sandbox ledger close interval",
      parseIntOption("ledger-interval"),
      50,
    )
    .addOption(
      new Option("--incomplete-limit <scope>", "Pi's one-incomplete-payment rule")
        .choices(["app", "user"])
        .default("app"),
    )
    .option("--json", "print the result as JSON")
    .option(
      "--inspect",
      "watch every payout's machine in the Stately inspector (open the printed address)",
    )
    .action(async (flags: DemoFlags) => {
      if (flags.count < 1) throw new Error("--count must be at least 1.");
      // First: a port in use must fail before the sandbox holds the process open.
      const inspector = await startInspector(io, flags.inspect);
      const sandbox = await startSandbox({
        users: flags.count,
        ledgerIntervalMs: flags.ledgerInterval,
        clock: "simulated",
        incompleteLimit: flags.incompleteLimit,
      });
      const store = createSqliteStore({ path: flags.db });
      const payouts = createPayouts({
        ...inspector.options,
        apiKey: sandbox.apiKey,
        walletSeed: sandbox.walletSeed,
        network: sandbox.network,
        apiUrl: sandbox.apiUrl,
        horizonUrl: sandbox.horizonUrl,
        store,
        incompleteLimit: flags.incompleteLimit,
        backoff: { baseDelayMs: 50, maxDelayMs: 1000 },
        slotPollMs: 50,
      });
      const run = Date.now().toString(36);
      const progress = createProgress(io, flags.count, "paying", Boolean(flags.json));
      const started = performance.now();
      try {
        const results: Payout[] = await Promise.all(
          sandbox.users.map(async (user, i) => {
            const payout = await payouts.pay({
              key: `demo-${run}-${String(i + 1).padStart(3, "0")}`,
              uid: user.uid,
              amount: (1 + i / 100).toFixed(2),
              memo: `pi-payments demo payout ${i + 1}`,
              metadata: { demo: run },
            });
            progress.increment(payout.state);
            return payout;
          }),
        );
        progress.stop();
        const seconds = (performance.now() - started) / 1000;
        const check = ledgerCheck(results, sandbox.ledgerPayments());
        if (flags.json) {
          io.out(JSON.stringify({ db: flags.db, seconds, check, payouts: results }));
        } else {
          io.out(payoutTable(results));
          io.out(
            `Ledger check: ${check.payouts} payouts, ${check.completed} completed, ${check.paidOnce} paid exactly once, ${check.doublePays} paid twice, ${check.unpaid} unpaid.`,
          );
          io.out(
            `Done in ${seconds.toFixed(1)} s. Payouts and their journals are in ${flags.db} (try: pi-payments list --db ${flags.db}).`,
          );
        }
        if (check.doublePays > 0 || check.completed !== check.payouts) process.exitCode = 1;
        await inspector.keepOpen();
      } finally {
        progress.stop();
        await payouts.close();
        await store.close();
        await sandbox.close();
        await inspector.stop();
      }
    });
}

/** Compares payouts with the sandbox ledger: every completed payout paid once, nothing else paid. */
export function ledgerCheck(
  results: Payout[],
  ledger: Array<{ memo: string | undefined; to: string; amount: string }>,
): LedgerCheck {
  let paidOnce = 0;
  let doublePays = 0;
  let unpaid = 0;
  for (const payout of results) {
    const paid = ledger.filter((p) => p.memo !== undefined && p.memo === payout.paymentId);
    const correct = paid.filter((p) => p.to === payout.toAddress && p.amount === payout.amount);
    if (paid.length > 1) doublePays += 1;
    else if (correct.length === 1) paidOnce += 1;
    else unpaid += 1;
  }
  return {
    payouts: results.length,
    completed: results.filter((p) => p.state === "completed").length,
    paidOnce,
    doublePays,
    unpaid,
  };
}
