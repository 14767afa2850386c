import type { Command } from "commander";
import { createWorker } from "../../runtime/index.js";
import { startMetricsServer } from "../../telemetry/prometheus-server.js";
import { type RuntimeFlags, runtimeFrom, withRuntimeOptions } from "../config.js";
import { startInspector, withInspector } from "../inspect.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";

/**
 * `pi-payments worker`: drains the store's queue until SIGTERM or SIGINT, then finishes the
 * step in hand of each payout, saves it, releases its lease and exits 0. With
 * `--metrics-port`, serves the runtime's metrics for Prometheus while it runs. Run as many as
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
    .option(
      "--metrics-port <port>",
      "serve metrics in Prometheus text format at http://host:port/metrics (0: any free port)",
      parseIntOption("metrics-port"),
    )
    .option("--metrics-host <host>", "the metrics server's address", "127.0.0.1")
    .action(async (flags: WorkerFlags) => {
      const metrics =
        flags.metricsPort === undefined
          ? undefined
          : await startMetricsServer({ port: flags.metricsPort, host: flags.metricsHost });
      const inspector = await startInspector(io, flags.inspect, env).catch(async (error) => {
        await metrics?.close();
        throw error;
      });
      const stopServers = async () => {
        await inspector.stop();
        await metrics?.close();
      };
      const { payouts, store, location } = await withInspector(
        { options: inspector.options, stop: stopServers },
        (options) =>
          runtimeFrom(flags, env, {
            ...options,
            ...(metrics ? { telemetry: { meterProvider: metrics.meterProvider } } : {}),
          }),
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
      // Listening before the lines that say the worker runs: a signal right after them stops it.
      const interrupted = io.untilInterrupted();
      if (metrics) log(`metrics at ${metrics.url}`, { metrics: metrics.url });
      log(
        `worker ${payouts.owner} on ${store.name} ${store.name === "sqlite" ? location : ""} (concurrency ${flags.concurrency})`,
        {
          owner: payouts.owner,
          store: store.name,
        },
      );
      await Promise.race([interrupted, worker.done]);
      log(
        `stopping: finishing the step in hand of ${worker.stats().active} payout(s)`,
        worker.stats(),
      );
      await worker.stop();
      await payouts.close();
      await store.close();
      await stopServers();
      log("stopped", worker.stats());
    });
}

type WorkerFlags = RuntimeFlags & {
  concurrency: number;
  json?: boolean;
  metricsPort?: number;
  metricsHost: string;
};
