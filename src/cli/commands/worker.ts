import type { Command } from "commander";
import { createWorker } from "../../runtime/index.js";
import { type RuntimeFlags, runtimeFrom, withRuntimeOptions } from "../config.js";
import { startInspector, withInspector } from "../inspect.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";

/**
 * `pi-payments worker`: drains the store's queue until SIGTERM or SIGINT, then finishes the
 * step in hand of each payout, saves it, releases its lease and exits 0. Run as many as
 * you like on one PostgreSQL store (or one SQLite file on one machine).
 */
export function workerCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withRuntimeOptions(
    program
      .command("worker")
      .description(
        "drain the queue of payouts until stopped (SIGTERM: finish the step in hand, release, exit)",
      ),
  )
    .option("-c, --concurrency <n>", "payouts driven at once", parseIntOption("concurrency"), 4)
    .option("--json", "log as JSON lines")
    .action(async (flags: RuntimeFlags & { concurrency: number; json?: boolean }) => {
      const inspector = await startInspector(io, flags.inspect);
      const { payouts, store, location } = await withInspector(inspector, (options) =>
        runtimeFrom(flags, env, options),
      );
      const log = (message: string, data: Record<string, unknown> = {}) =>
        io.out(
          flags.json ? JSON.stringify({ at: new Date().toISOString(), message, ...data }) : message,
        );
      payouts.subscribe((event) => {
        if (event.payout.atRest) {
          log(
            `${event.key}: ${event.payout.state}${event.payout.failure ? ` (${event.payout.failure.code})` : ""}`,
            {
              key: event.key,
              state: event.payout.state,
            },
          );
        }
      });
      const worker = createWorker(payouts, { concurrency: flags.concurrency });
      log(
        `worker ${payouts.owner} on ${store.name} ${store.name === "sqlite" ? location : ""} (concurrency ${flags.concurrency})`,
        {
          owner: payouts.owner,
          store: store.name,
        },
      );
      await Promise.race([io.untilInterrupted(), worker.done]);
      log(
        `stopping: finishing the step in hand of ${worker.stats().active} payout(s)`,
        worker.stats(),
      );
      await worker.stop();
      await payouts.close();
      await store.close();
      await inspector.stop();
      log("stopped", worker.stats());
    });
}
