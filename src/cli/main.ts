import { Command, CommanderError } from "commander";
import { isPiPaymentsError } from "../domain/errors.js";
import { demoCommand } from "./commands/demo.js";
import { migrateCommand } from "./commands/migrate.js";
import { sandboxCommand } from "./commands/sandbox.js";
import { workerCommand } from "./commands/worker.js";
import { type CliIo, processIo } from "./io.js";

/** Builds the `pi-payments` program. */
export function createProgram(
  io: CliIo = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Command {
  const program = new Command("pi-payments")
    .description("Pay Pi Network users from your app wallet, exactly once.")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .exitOverride();
  demoCommand(program, io);
  sandboxCommand(program, io);
  workerCommand(program, io, env);
  migrateCommand(program, io, env);
  return program;
}

/** Runs the command line; errors become one line on stderr and a non-zero exit code. */
export async function main(argv: string[], io: CliIo = processIo): Promise<void> {
  try {
    await createProgram(io).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    io.err(
      `pi-payments: ${isPiPaymentsError(error) ? `${error.message} [${error.code}]` : (error as Error).message}`,
    );
    process.exitCode = 1;
  }
}
