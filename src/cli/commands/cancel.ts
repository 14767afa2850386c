import type { Command } from "commander";
import { isNotFoundError, NotFoundError } from "../../domain/errors.js";
import { type RuntimeFlags, runtimeFrom, withRuntimeOptions } from "../config.js";
import type { CliIo } from "../io.js";
import { payoutDetails } from "../output.js";
import { exitCodeFor } from "./pay.js";

/** `pi-payments cancel <key>` and `pi-payments retry <key>`: a person's two answers to a payout. */
export function cancelAndRetryCommands(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  for (const [name, description] of [
    ["cancel", "cancel a payout as soon as it is safe (never once the user is paid)"],
    ["retry", "take a failed payout up again from where it stopped"],
  ] as const) {
    withRuntimeOptions(program.command(name).description(description))
      .argument("<key>", "the payout's key")
      .option("--json", "print the payout as JSON")
      .action(async (key: string, flags: RuntimeFlags & { json?: boolean }) => {
        const { payouts, store, storeText } = runtimeFrom(flags, env, {}, { storeMustExist: true });
        try {
          const payout = await (name === "cancel" ? payouts.cancel(key) : payouts.retry(key)).catch(
            (error: unknown) => {
              // The runtime does not know where its store is; a person needs to.
              if (isNotFoundError(error))
                throw new NotFoundError(`No payout with key "${key}" in ${storeText}.`);
              throw error;
            },
          );
          io.out(flags.json ? JSON.stringify(payout) : payoutDetails(payout));
          process.exitCode = exitCodeFor(payout.state);
        } finally {
          await payouts.close();
          await store.close();
        }
      });
  }
}
