import { PiPaymentsError } from "../domain/errors.js";
import type { PayoutSnapshot } from "../machines/step.js";
import type { StoredPayout } from "../storage/types.js";
import { MachineRunner } from "./machine-runner.js";
import type { QueuedCommand, RunnerDeps } from "./runner-types.js";

/** How a runner is started: see {@link MachineRunner}. */
export interface RunnerStart {
  fresh: boolean;
  commands?: QueuedCommand[];
  takenOverFrom?: string;
}

/** The runners of one runtime, by payout key: at most one per payout in a process. */
export class RunnerRegistry {
  private readonly runners = new Map<string, MachineRunner<PayoutSnapshot>>();
  private closed = false;
  private closedAs: "closed" | "crashed" | undefined;

  constructor(private readonly deps: RunnerDeps<PayoutSnapshot>) {}

  /** The runner driving `key` here; one whose loop is over counts as gone. */
  get(key: string): MachineRunner<PayoutSnapshot> | undefined {
    const runner = this.runners.get(key);
    return runner?.finished ? undefined : runner;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  keys(): string[] {
    return [...this.runners.keys()].filter((key) => this.has(key));
  }

  /** True once {@link closeAll} ran gracefully (not as a crash, which keeps every lease). */
  get closedGracefully(): boolean {
    return this.closedAs === "closed";
  }

  /** True once {@link closeAll} ran: no runner starts any more. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** @throws PiPaymentsError `CLOSED` once the runtime is closed */
  ensureOpen(): void {
    if (this.closed)
      throw new PiPaymentsError("This payouts runtime is closed.", { code: "CLOSED" });
  }

  /**
   * Starts driving a payout this runtime holds the lease of. Every caller claimed it first,
   * and the runtime may have closed during that await: a runner started now would drive the
   * payout beside its next owner, so a closed registry refuses.
   *
   * At most one runner per payout, whoever asks: a caller that checked for a runner, then
   * awaited the store (a claim, a read) may find one started meanwhile (pay() starting the
   * runner of a payout whose slot a queued payout found held, and asked to drive). It joins
   * that runner, its commands queued there, instead of starting a second that would send
   * every effect twice and replace the first in this registry.
   */
  start(record: StoredPayout, start: RunnerStart): MachineRunner<PayoutSnapshot> {
    this.ensureOpen();
    const running = this.get(record.key);
    if (running) {
      for (const command of start.commands ?? [])
        void running.send(command.event).then(command.resolve);
      return running;
    }
    const runner = new MachineRunner(this.deps, record, {
      fresh: start.fresh,
      commands: start.commands ?? [],
      ...(start.takenOverFrom === undefined ? {} : { takenOverFrom: start.takenOverFrom }),
    });
    this.runners.set(record.key, runner);
    const forget = () => {
      if (this.runners.get(record.key) === runner) this.runners.delete(record.key);
    };
    void runner.done.then(forget, forget);
    return runner;
  }

  /**
   * Stops every runner: gracefully (each finishes its step and releases its lease), or as
   * a crash would. Resolves once the graceful ones are done.
   */
  async closeAll(how: "closed" | "crashed"): Promise<void> {
    this.closed = true;
    this.closedAs = how;
    const running = [...this.runners.values()];
    for (const runner of running) runner.stop(how);
    if (how === "closed") await Promise.allSettled(running.map((runner) => runner.done));
  }
}
