import type { Command } from "commander";
import { ConfigurationError } from "../../domain/errors.js";
import { type RuntimeFlags, runtimeFrom, withRuntimeOptions } from "../config.js";
import { startInspector } from "../inspect.js";
import type { CliIo } from "../io.js";
import { payoutDetails } from "../output.js";

/** Exit codes of commands that end with a payout: 0 completed, 3 failed (a person must act), 4 cancelled. */
export function exitCodeFor(state: string): number {
  return state === "completed" ? 0 : state === "cancelled" ? 4 : 3;
}

/** `pi-payments pay`: pays one user once per key and waits until the payout rests. */
export function payCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withRuntimeOptions(
    program
      .command("pay")
      .description(
        "pay a user once per key; exits 0 completed, 3 failed (see the reason), 4 cancelled",
      )
      .requiredOption("--key <key>", "your idempotency key for this payout, e.g. refund-order-42")
      .requiredOption("--uid <uid>", "the user's app-specific uid")
      .requiredOption("--amount <pi>", 'amount of Pi, e.g. "3.14"')
      .requiredOption("--memo <text>", "a short text shown to the user")
      .option("--metadata <json>", "your JSON object, returned by Pi as given", "{}")
      .option("--json", "print the payout as JSON"),
  ).action(
    async (
      flags: RuntimeFlags & {
        key: string;
        uid: string;
        amount: string;
        memo: string;
        metadata: string;
        json?: boolean;
      },
    ) => {
      let metadata: unknown;
      try {
        metadata = JSON.parse(flags.metadata);
      } catch {
        throw new ConfigurationError(
          `--metadata must be a JSON object, got ${flags.metadata}.`,
          "INVALID_METADATA",
        );
      }
      const inspector = await startInspector(io, flags.inspect);
      const { payouts, store } = runtimeFrom(flags, env, inspector.options);
      try {
        const payout = await payouts.pay({
          key: flags.key,
          uid: flags.uid,
          amount: flags.amount,
          memo: flags.memo,
          metadata: metadata as Record<string, unknown>,
        });
        io.out(flags.json ? JSON.stringify(payout) : payoutDetails(payout));
        process.exitCode = exitCodeFor(payout.state);
        await inspector.keepOpen();
      } finally {
        await payouts.close();
        await store.close();
        inspector.stop();
      }
    },
  );
}
