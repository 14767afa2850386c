import type { Command } from "commander";
import { type RuntimeFlags, runtimeFrom, withRuntimeOptions } from "../config.js";
import { startInspector, withInspector } from "../inspect.js";
import type { CliIo } from "../io.js";
import { createProgress, payoutTable } from "../output.js";

/** `pi-payments resume`: drives every unfinished payout on from its snapshot, until each rests. */
export function resumeCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withRuntimeOptions(
    program
      .command("resume")
      .description("drive every unfinished payout on from its stored state, until each rests"),
  )
    .option("--json", "print the payouts as JSON")
    .action(async (flags: RuntimeFlags & { json?: boolean }) => {
      const inspector = await startInspector(io, flags.inspect, env);
      const { payouts, store } = await withInspector(inspector, (options) =>
        runtimeFrom(flags, env, options),
      );
      try {
        const unfinished = await store.list({ atRest: false, limit: 1_000_000 });
        const progress = createProgress(
          io,
          Math.max(unfinished.length, 1),
          "resuming",
          Boolean(flags.json),
        );
        payouts.subscribe((event) => {
          if (event.payout.atRest) progress.increment(event.payout.state);
        });
        const results = await payouts.resume();
        progress.stop();
        if (flags.json) io.out(JSON.stringify(results));
        else
          io.out(
            results.length === 0 ? "Nothing to resume: every payout rests." : payoutTable(results),
          );
        await inspector.keepOpen();
      } finally {
        await payouts.close();
        await store.close();
        await inspector.stop();
      }
    });
}
