/** Where a command writes, and how it waits for Ctrl-C: swapped in tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /**
   * Resolves on SIGINT or SIGTERM. Call it before printing the line that says the process is
   * ready: a signal that comes before the listeners would end the process by default.
   */
  untilInterrupted(): Promise<void>;
  isTTY: boolean;
}

/** The process's own standard streams and signals. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  untilInterrupted: () =>
    new Promise((resolve) => {
      const done = () => {
        process.off("SIGINT", done);
        process.off("SIGTERM", done);
        resolve();
      };
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    }),
  isTTY: Boolean(process.stdout.isTTY),
};
