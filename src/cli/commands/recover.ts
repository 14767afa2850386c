import type { Command } from "commander";
import { type RuntimeFlags, runtimeFrom, withRuntimeOptions } from "../config.js";
import { startInspector, withInspector } from "../inspect.js";
import type { CliIo } from "../io.js";
import { payoutTable } from "../output.js";

/** `pi-payments recover`: after a crash or a lost store, reconciles with Pi, then resumes. */
export function recoverCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withRuntimeOptions(
    program
      .command("recover")
      .description(
        "read Pi's incomplete payments: adopt ours, report foreign ones; then resume every payout",
      ),
  )
    .option(
      "--adopt-orphans",
      "also take over Pi payments that carry a payout key this store does not know",
    )
    .option("--json", "print the report as JSON")
    .action(async (flags: RuntimeFlags & { adoptOrphans?: boolean; json?: boolean }) => {
      const inspector = await startInspector(io, flags.inspect, env);
      const { payouts, store } = await withInspector(inspector, (options) =>
        runtimeFrom(flags, env, options),
      );
      try {
        const report = await payouts.recover({ adoptOrphans: Boolean(flags.adoptOrphans) });
        if (flags.json) {
          io.out(JSON.stringify(report));
        } else {
          io.out(
            `Adopted ${report.adopted.length} payment(s) of ours: ${report.adopted.map((a) => `${a.key}=${a.paymentId}`).join(", ") || "none"}.`,
          );
          io.out(`Cancelled ${report.cancelledStrays.length} stray payment(s) of settled payouts.`);
          for (const orphan of report.orphans) {
            io.out(
              `Orphan: ${orphan.identifier} (key ${String(orphan.metadata?.pi_payments_key)}, ${orphan.amount} Pi to ${orphan.user_uid})${flags.adoptOrphans ? " adopted" : ": rerun with --adopt-orphans to take it over"}.`,
            );
          }
          for (const foreign of report.foreign) {
            io.out(
              `Foreign: ${foreign.identifier} (${foreign.amount} Pi to ${foreign.user_uid}) was not made by pi-payments; complete or cancel it yourself.`,
            );
          }
          io.out(report.resumed.length === 0 ? "Nothing to resume." : payoutTable(report.resumed));
        }
        await inspector.keepOpen();
      } finally {
        await payouts.close();
        await store.close();
        await inspector.stop();
      }
    });
}
