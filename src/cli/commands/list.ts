import { type Command, Option } from "commander";
import { PAYOUT_STATES, type PayoutState } from "../../machines/types.js";
import { withBlockers } from "../../runtime/slot-blockers.js";
import {
  describeStore,
  openStore,
  type RuntimeFlags,
  schemaOf,
  storeLocation,
  withStoreOptions,
} from "../config.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";
import { payoutTable } from "../output.js";

/** `pi-payments list`: payouts in key order, optionally of one state. */
export function listCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withStoreOptions(
    program.command("list").description("list payouts, e.g. the failed ones a person must look at"),
  )
    .addOption(
      new Option("--state <state>", "only payouts in this main state").choices([...PAYOUT_STATES]),
    )
    .option("--unfinished", "only payouts not yet resting")
    .option("--limit <n>", "at most this many", parseIntOption("limit"), 100)
    .option("--after <key>", "start after this key (paging)")
    .option("--json", "print as JSON")
    .action(
      async (
        flags: RuntimeFlags & {
          state?: PayoutState;
          unfinished?: boolean;
          limit: number;
          after?: string;
          json?: boolean;
        },
      ) => {
        const location = storeLocation(flags, env);
        const schema = schemaOf(flags, env);
        const store = openStore(location, schema, { mustExist: true });
        try {
          const payouts = await withBlockers(
            store,
            await store.list({
              limit: flags.limit,
              ...(flags.state ? { state: flags.state } : {}),
              ...(flags.unfinished ? { atRest: false } : {}),
              ...(flags.after ? { afterKey: flags.after } : {}),
            }),
          );
          if (flags.json) io.out(JSON.stringify(payouts));
          else if (payouts.length > 0) io.out(payoutTable(payouts));
          else io.out(noPayoutsText(flags, describeStore(location, schema)));
        } finally {
          await store.close();
        }
      },
    );
}

/** "No unfinished payouts in state failed after key "k" in <store>." */
function noPayoutsText(
  flags: { state?: string; unfinished?: boolean; after?: string },
  store: string,
): string {
  const which = `${flags.unfinished ? "unfinished " : ""}payouts`;
  const state = flags.state ? ` in state ${flags.state}` : "";
  const after = flags.after ? ` after key "${flags.after}"` : "";
  return `No ${which}${state}${after} in ${store}.`;
}
