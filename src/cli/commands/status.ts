import type { Command } from "commander";
import { NotFoundError } from "../../domain/errors.js";
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
import { payoutDetails } from "../output.js";

/** `pi-payments status <key|paymentId>`: one payout, from the store alone (no credentials needed). */
export function statusCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withStoreOptions(
    program.command("status").description("show one payout, by its key or its Pi payment id"),
  )
    .argument("<key|paymentId>", "the payout's key, or Pi's payment identifier")
    .option("--json", "print as JSON")
    .action(async (id: string, flags: RuntimeFlags & { json?: boolean }) => {
      const location = storeLocation(flags, env);
      const schema = schemaOf(flags, env);
      const store = openStore(location, schema, { mustExist: true });
      try {
        const stored = (await store.get(id)) ?? (await store.findByPaymentId(id));
        const [payout] = stored ? await withBlockers(store, [stored]) : [];
        if (!payout) {
          throw new NotFoundError(
            `No payout with key or payment id "${id}" in ${describeStore(location, schema)}.`,
          );
        }
        io.out(flags.json ? JSON.stringify(payout) : payoutDetails(payout));
      } finally {
        await store.close();
      }
    });
}
