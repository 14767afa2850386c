import { userInfo } from "node:os";
import type { Command } from "commander";
import { isNotFoundError, NotFoundError } from "../../domain/errors.js";
import { type RuntimeFlags, runtimeFrom, withRuntimeOptions } from "../config.js";
import type { CliIo } from "../io.js";
import { payoutDetails } from "../output.js";
import { exitCodeFor } from "./pay.js";

interface CommandFlags extends RuntimeFlags {
  by?: string;
  reason?: string;
  json?: boolean;
}

/**
 * The person at the keyboard, for the journal: a command typed by hand is a person's. The
 * OS may know no name for the uid (a container without /etc/passwd): then the shell's.
 */
function osUser(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? env.USERNAME;
  }
}

/** `pi-payments cancel <key>` and `pi-payments retry <key>`: a person's two answers to a payout. */
export function cancelAndRetryCommands(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  for (const [name, description] of [
    ["cancel", "cancel a payout as soon as it is safe (never once the user is paid)"],
    ["retry", "take a failed payout up again from where it stopped"],
  ] as const) {
    withRuntimeOptions(program.command(name).description(description))
      .argument("<key>", "the payout's key")
      .option("--by <name>", "who asks, for the journal and the events [default: the OS user]")
      .option("--reason <text>", "why, in a few words, for the journal and the events")
      .option("--json", "print the payout as JSON")
      .action(async (key: string, flags: CommandFlags) => {
        const { payouts, store, storeText } = runtimeFrom(flags, env, {}, { storeMustExist: true });
        const by = flags.by ?? osUser(env);
        const asked = {
          ...(by === undefined ? {} : { by }),
          ...(flags.reason === undefined ? {} : { reason: flags.reason }),
        };
        try {
          const payout = await (name === "cancel"
            ? payouts.cancel(key, asked)
            : payouts.retry(key, asked)
          ).catch((error: unknown) => {
            // The runtime does not know where its store is; a person needs to.
            if (isNotFoundError(error))
              throw new NotFoundError(`No payout with key "${key}" in ${storeText}.`);
            throw error;
          });
          io.out(flags.json ? JSON.stringify(payout) : payoutDetails(payout));
          process.exitCode = exitCodeFor(payout.state);
        } finally {
          await payouts.close();
          await store.close();
        }
      });
  }
}
