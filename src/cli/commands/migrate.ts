import type { Command } from "commander";
import { migrate } from "../../storage/postgres/migrations.js";
import { createSqliteStore } from "../../storage/sqlite-store.js";
import {
  isPostgresUrl,
  type RuntimeFlags,
  schemaOf,
  storeLocation,
  withStoreOptions,
} from "../config.js";
import type { CliIo } from "../io.js";

/** `pi-payments migrate`: brings the store's schema up to date (stores also do it on first use). */
export function migrateCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withStoreOptions(
    program.command("migrate").description("create or update the store's tables"),
  ).action(async (flags: RuntimeFlags) => {
    const location = storeLocation(flags, env);
    const schema = schemaOf(flags, env);
    if (isPostgresUrl(location)) {
      const pg = await import("pg");
      const pool = new pg.default.Pool({ connectionString: location, max: 1 });
      try {
        const applied = await migrate(pool as never, schema);
        io.out(
          applied.length
            ? `applied migrations ${applied.join(", ")} to schema ${schema}`
            : `schema ${schema} is up to date`,
        );
      } finally {
        await pool.end();
      }
      return;
    }
    const store = createSqliteStore({ path: location });
    await store.list({ limit: 1 });
    await store.close();
    io.out(`SQLite store ${location} is up to date`);
  });
}
