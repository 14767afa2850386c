import { Command, CommanderError } from "commander";
import { isPiPaymentsError } from "../domain/errors.js";
import { cancelAndRetryCommands } from "./commands/cancel.js";
import { demoCommand } from "./commands/demo.js";
import { doctorCommand } from "./commands/doctor.js";
import { eventsCommand } from "./commands/events.js";
import { journalCommand } from "./commands/journal.js";
import { listCommand } from "./commands/list.js";
import { migrateCommand } from "./commands/migrate.js";
import { payCommand } from "./commands/pay.js";
import { recoverCommand } from "./commands/recover.js";
import { relayCommand } from "./commands/relay.js";
import { resumeCommand } from "./commands/resume.js";
import { sandboxCommand } from "./commands/sandbox.js";
import { statusCommand } from "./commands/status.js";
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
  doctorCommand(program, io, env);
  payCommand(program, io, env);
  statusCommand(program, io, env);
  listCommand(program, io, env);
  journalCommand(program, io, env);
  eventsCommand(program, io, env);
  resumeCommand(program, io, env);
  recoverCommand(program, io, env);
  cancelAndRetryCommands(program, io, env);
  workerCommand(program, io, env);
  relayCommand(program, io, env);
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
