import type { Command } from "commander";
import { NotFoundError } from "../../domain/errors.js";
import {
  describeStore,
  openStore,
  type RuntimeFlags,
  schemaOf,
  storeLocation,
  withStoreOptions,
} from "../config.js";
import type { CliIo } from "../io.js";
import { journalTable } from "../output.js";

/** `pi-payments journal <key>`: every step of a payout, who made it and why. */
export function journalCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withStoreOptions(
    program
      .command("journal")
      .description("show every step of a payout: time, states, event, facts, process"),
  )
    .argument("<key>", "the payout's key")
    .option("--json", "print as JSON")
    .action(async (key: string, flags: RuntimeFlags & { json?: boolean }) => {
      const location = storeLocation(flags, env);
      const schema = schemaOf(flags, env);
      const store = openStore(location, schema, { mustExist: true });
      try {
        const entries = await store.journal(key);
        if (entries.length === 0)
          throw new NotFoundError(
            `No payout with key "${key}" in ${describeStore(location, schema)}.`,
          );
        io.out(flags.json ? JSON.stringify(entries) : journalTable(entries));
      } finally {
        await store.close();
      }
    });
}
