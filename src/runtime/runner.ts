import type { SignedTransaction } from "../adapters/types.js";
import { isConflictError, serializeError } from "../domain/errors.js";
import type { PayoutMachine } from "../machines/payout-machine.js";
import {
  describeState,
  isSettled,
  type PayoutEvent,
  type PayoutSnapshot,
  type PendingEffect,
  pendingEffect,
  persistPayout,
  restorePayout,
  stepPayout,
} from "../machines/step.js";
import type { PayoutCommand } from "../machines/types.js";
import type { PayoutStore, StoredPayout } from "../storage/types.js";
import type { Activities } from "./activities.js";
import type { LeaseKeeper } from "./lease-keeper.js";
import type { Scrubber } from "./scrub.js";
import type { SlotGate } from "./slot-gate.js";

/** A point where the runner awaits: instrumentation, and where crash tests strike. */
export type ProbePoint =
  | { point: "effect:start" | "effect:end"; key: string; effect: string; state: string }
  | { point: "save:start" | "save:end"; key: string; state: string; event: string };

/** Called (and awaited) at every {@link ProbePoint}. A probe that throws stops the runner as a crash would. */
export type Probe = (point: ProbePoint) => void | Promise<void>;

/** One saved step of a payout, as subscribers see it. */
export interface PayoutTransition {
  key: string;
  from: string;
  to: string;
  event: string;
  /** The journal line's facts about the step. */
  details: Record<string, unknown>;
  at: string;
  payout: StoredPayout;
}

/** What the runner needs. */
export interface RunnerDeps {
  machine: PayoutMachine;
  store: PayoutStore;
  activities: Activities;
  slots: SlotGate;
  owner: string;
  leaseMs: number;
  /** Renews the leases of every runner of this runtime, in one write. */
  leases: LeaseKeeper;
  now: () => number;
  scrub: Scrubber;
  probe: Probe | undefined;
  onTransition: (transition: PayoutTransition, snapshot: PayoutSnapshot) => void;
  /**
   * Tells the chain adapter that this process will not send an envelope (any more): one
   * built but never saved, or the saved one of a payout this runner stops driving. Frees
   * the source account's sequence number for this process's next envelope.
   */
  forgetEnvelope: (transaction: SignedTransaction) => void;
}

/** How a run ended. */
export type RunEnd =
  | { status: "settled"; payout: StoredPayout }
  | { status: "stopped"; reason: "closed" | "lease_lost" | "crashed"; payout: StoredPayout };

const commandReady = Symbol("command");

/**
 * Drives one payout, which it holds the lease of, until it settles or must stop.
 *
 * Each turn: the stored snapshot names one pending effect; the effect runs; its result
 * becomes an event; xstate's pure `transition()` gives the next snapshot; the store saves
 * it (compare-and-set, fenced by the lease, journal line in the same step); only then
 * does the next effect start. So an effect never starts before the state that performs it
 * is durable (DESIGN P1), and a crash anywhere resumes from the last saved state.
 */
export class PayoutRunner {
  readonly key: string;
  readonly done: Promise<RunEnd>;
  private record: StoredPayout;
  private snapshot: PayoutSnapshot;
  private readonly commands: Array<{ event: PayoutCommand; resolve: (accepted: boolean) => void }> =
    [];
  private wakeForCommand: (() => void) | undefined;
  private stopReason: "closed" | "lease_lost" | "crashed" | undefined;
  /** A graceful stop asked while an effect with outside consequences ran: stop once it is saved. */
  private stopAfterStep = false;
  /** The last save settled the payout and gave the lease up with it. */
  private leaseReleased = false;
  private currentEffect: PendingEffect | undefined;
  private readonly stopController = new AbortController();

  constructor(
    private readonly deps: RunnerDeps,
    record: StoredPayout,
    options: {
      fresh: boolean;
      commands?: Array<{ event: PayoutCommand; resolve: (accepted: boolean) => void }>;
      /** The runner whose lease was taken over because its process is provably gone. */
      takenOverFrom?: string;
    },
  ) {
    this.key = record.key;
    // Queued before the loop starts, so that a settled payout sees them on its first turn.
    this.commands.push(...(options.commands ?? []));
    this.record = record;
    this.snapshot = restorePayout(record.snapshot, deps.machine);
    deps.leases.keep(this.key, () => this.leaseLost());
    this.done = this.loop(options.fresh, options.takenOverFrom);
  }

  /** The latest saved record. */
  get payout(): StoredPayout {
    return this.record;
  }

  /** Queues a command; resolves true if the machine accepted it (and it was saved). */
  send(event: PayoutCommand): Promise<boolean> {
    return new Promise((resolve) => {
      this.commands.push({ event, resolve });
      this.wakeForCommand?.();
    });
  }

  /**
   * Stops the runner. `closed` is graceful: the step in flight is finished and saved (a
   * wait or a slot queue, which change nothing outside, are cut short), then the lease is
   * released. `crashed` stops at the next await point and releases nothing, as a killed
   * process would.
   */
  stop(reason: "closed" | "crashed"): void {
    const effect = this.currentEffect;
    if (reason === "closed" && effect && effect.src !== "wait" && effect.src !== "acquireSlot") {
      this.stopAfterStep = true;
      return;
    }
    this.stopReason ??= reason;
    this.stopController.abort();
    this.wakeForCommand?.();
  }

  /** The lease keeper found this payout's lease gone: another runner may drive it now. */
  private leaseLost(): void {
    // A lease given up with the settling save is not lost: the renewal just raced it.
    if (!this.stopReason && !this.leaseReleased) {
      this.stopReason = "lease_lost";
      this.stopController.abort();
      this.wakeForCommand?.();
    }
  }

  private async loop(fresh: boolean, takenOverFrom: string | undefined): Promise<RunEnd> {
    let replay = !fresh;
    try {
      // The journal says who drives the payout from here, and why nobody waited for the lease.
      if (takenOverFrom !== undefined) {
        await this.save(this.snapshot, "TAKEOVER", {
          from: takenOverFrom,
          reason: "its process is gone",
        });
      }
      while (!this.stopReason) {
        if (this.stopAfterStep) {
          this.stopReason = "closed";
          break;
        }
        // Commands first: RETRY and CANCEL are how a settled (failed) payout moves again.
        await this.applyCommands(undefined);
        if (this.stopReason) break;
        if (isSettled(this.snapshot)) return { status: "settled", payout: this.record };
        const effect = pendingEffect(this.snapshot, this.deps.machine);
        if (!effect)
          throw new Error(
            `Payout ${this.key} is in ${describeState(this.snapshot).detail} with nothing to do.`,
          );
        await this.probe({
          point: "effect:start",
          key: this.key,
          effect: effect.src,
          state: this.detail,
        });
        this.currentEffect = effect;
        const controller = new AbortController();
        const stop = () => controller.abort();
        this.stopController.signal.addEventListener("abort", stop);
        const result = this.execute(effect, controller.signal, replay);
        replay = false;
        let kept = false;
        try {
          for (;;) {
            const next = await Promise.race([result, this.commandArrival()]);
            if (this.stopReason) break;
            if (next === commandReady) {
              if (await this.applyCommands(effect)) {
                controller.abort();
                break;
              }
              continue;
            }
            await this.probe({
              point: "effect:end",
              key: this.key,
              effect: effect.src,
              state: this.detail,
            });
            if (this.stopReason) break;
            await this.commit(next, eventName(next));
            kept = true;
            break;
          }
        } finally {
          this.currentEffect = undefined;
          this.stopController.signal.removeEventListener("abort", stop);
          // An envelope built but not saved is never sent by anyone: give its sequence back
          // (otherwise this process's next build would wait out the envelope's time bound).
          if (!kept) void result.then((event) => this.forgetBuilt(event));
        }
      }
    } catch (error) {
      if (isConflictError(error)) this.stopReason ??= "lease_lost";
      else if (this.stopReason === undefined) this.stopReason = "crashed";
      if (!isConflictError(error) && !(error instanceof ProbeCrash)) throw error;
    } finally {
      this.deps.leases.forget(this.key);
      // Whoever drives this payout next (here or elsewhere) takes its envelope's fate over.
      const saved = this.snapshot.context.transaction;
      if (saved) this.deps.forgetEnvelope(saved);
      for (const command of this.commands.splice(0)) command.resolve(false);
      if (
        this.stopReason !== "crashed" &&
        this.stopReason !== "lease_lost" &&
        !this.leaseReleased
      ) {
        await this.deps.store.release(this.key, this.deps.owner).catch(() => undefined);
      }
    }
    return { status: "stopped", reason: this.stopReason ?? "closed", payout: this.record };
  }

  private forgetBuilt(event: PayoutEvent): void {
    const built = (event.output as { transaction?: SignedTransaction } | undefined)?.transaction;
    if (built?.envelope) this.deps.forgetEnvelope(built);
  }

  private get detail(): string {
    return describeState(this.snapshot).detail;
  }

  private async probe(point: Parameters<Probe>[0]): Promise<void> {
    if (!this.deps.probe) return;
    try {
      await this.deps.probe(point);
    } catch (error) {
      this.stopReason ??= "crashed";
      throw new ProbeCrash(error);
    }
  }

  private commandArrival(): Promise<typeof commandReady> {
    if (this.commands.length > 0 || this.stopReason) return Promise.resolve(commandReady);
    return new Promise((resolve) => {
      this.wakeForCommand = () => {
        this.wakeForCommand = undefined;
        resolve(commandReady);
      };
    });
  }

  /**
   * Applies queued commands; true when one ended the effect `running`. An effect goes on
   * only if the new snapshot still waits on the same invoke of the same state node (xstate's
   * stopChild actions cannot tell: a restored snapshot has no live children to name).
   */
  private async applyCommands(running: PendingEffect | undefined): Promise<boolean> {
    let stoppedRunning = false;
    for (let command = this.commands.shift(); command; command = this.commands.shift()) {
      if (this.stopReason) {
        command.resolve(false);
        continue;
      }
      const { snapshot: next } = stepPayout(this.snapshot, command.event, this.deps.machine);
      if (next === this.snapshot) {
        command.resolve(false);
        continue;
      }
      // The settling save gave the lease up; a command arriving just after needs it back.
      if (this.leaseReleased) {
        if (!(await this.deps.store.claim(this.key, this.deps.owner, this.deps.leaseMs))) {
          command.resolve(false);
          continue;
        }
        this.leaseReleased = false;
      }
      await this.save(next, command.event.type, {}, command.event.at);
      command.resolve(true);
      const after = pendingEffect(next, this.deps.machine);
      if (
        running !== undefined &&
        (after?.id !== running.id || after.stateNode !== running.stateNode)
      ) {
        stoppedRunning = true;
      }
    }
    return stoppedRunning;
  }

  private async execute(
    effect: PendingEffect,
    signal: AbortSignal,
    replay: boolean,
  ): Promise<PayoutEvent> {
    const run = this.deps.activities[effect.src as keyof Activities] as (
      input: unknown,
      context: unknown,
    ) => Promise<object>;
    try {
      if (!run) throw new Error(`No activity implements the effect "${effect.src}".`);
      const output = await run(effect.input, { signal, replay });
      return { type: `xstate.done.actor.${effect.id}`, output: { ...output, at: this.deps.now() } };
    } catch (error) {
      return {
        type: `xstate.error.actor.${effect.id}`,
        error: { ...this.deps.scrub(serializeError(error)), at: this.deps.now() },
      };
    }
  }

  private async commit(event: PayoutEvent, name: string): Promise<void> {
    const { snapshot: next } = stepPayout(this.snapshot, event, this.deps.machine);
    await this.save(
      next,
      name,
      journalDetails(event),
      (event.output as { at?: number } | undefined)?.at ??
        (event.error as { at?: number } | undefined)?.at,
    );
  }

  private async save(
    next: PayoutSnapshot,
    event: string,
    details: Record<string, unknown>,
    at = this.deps.now(),
  ): Promise<void> {
    const { scrub, store, owner } = this.deps;
    const from = this.detail;
    const { state, detail } = describeState(next);
    const iso = new Date(at).toISOString();
    const context = next.context;
    const releaseSlot = releasesSlot(next) ? context.slotScope : undefined;
    await this.probe({ point: "save:start", key: this.key, state: detail, event });
    this.record = await store.save(
      this.key,
      this.record.version,
      {
        snapshot: scrub(persistPayout(next, this.deps.machine)),
        state,
        stateDetail: detail,
        paymentId: context.paymentId,
        txid: context.transaction?.txid ?? null,
        settled: isSettled(next),
        holdsSlot: releaseSlot === undefined,
        at: iso,
      },
      { at: iso, from, to: detail, event, details: scrub(details), owner },
      {
        owner,
        ...(releaseSlot === undefined ? {} : { releaseSlot }),
        // A payout at rest needs no driver: the lease goes in the same step, saving a write.
        ...(isSettled(next) ? { release: true } : {}),
      },
    );
    this.leaseReleased = isSettled(next);
    this.snapshot = next;
    if (releaseSlot !== undefined) this.deps.slots.notify(releaseSlot);
    this.deps.onTransition(
      {
        key: this.key,
        from,
        to: detail,
        event,
        details: scrub(details),
        at: iso,
        payout: this.record,
      },
      next,
    );
    await this.probe({ point: "save:end", key: this.key, state: detail, event });
  }
}

/** A probe threw: the runner stops where it stands, as a killed process would. */
export class ProbeCrash extends Error {
  constructor(readonly original: unknown) {
    super("The runner was stopped by its probe (a simulated crash).");
  }
}

/** The slot is freed once no Pi payment of the payout can be open any more. */
function releasesSlot(snapshot: PayoutSnapshot): boolean {
  const { state } = describeState(snapshot);
  if (state === "completed" || state === "cancelled") return true;
  return state === "failed" && snapshot.context.failure?.paymentOpen === false;
}

function eventName(event: PayoutEvent): string {
  const match = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type);
  return match ? `${match[2]}.${match[1]}` : event.type;
}

/** A few facts about a step for the journal: ids, outcomes, codes; never a whole payload. */
function journalDetails(event: PayoutEvent): Record<string, unknown> {
  if (event.error) {
    const error = event.error as { code?: string; message?: string; retryable?: boolean };
    return { code: error.code, message: error.message, retryable: error.retryable };
  }
  const output = (event.output ?? {}) as Record<string, unknown>;
  const details: Record<string, unknown> = {};
  const payment = output.payment as { identifier?: string } | null | undefined;
  if (payment !== undefined) details.paymentId = payment?.identifier ?? null;
  if (output.adopted === true) details.adopted = true;
  if (Array.isArray(output.cancelledStrays)) details.cancelledStrays = output.cancelledStrays;
  // Transactions with the payment's memo that are not its own: noted, never taken as it.
  if (Array.isArray(output.ignored) && output.ignored.length > 0) details.ignored = output.ignored;
  const transaction = output.transaction as
    | { txid?: string; sequence?: string; maxTime?: number; ledger?: number }
    | undefined;
  if (transaction?.txid) {
    details.txid = transaction.txid;
    if (transaction.sequence !== undefined) details.sequence = transaction.sequence;
    if (transaction.maxTime !== undefined) details.maxTime = transaction.maxTime;
  }
  for (const field of ["status", "txid", "ledger", "reason", "usedBy", "resultCodes"] as const) {
    if (output[field] !== undefined) details[field] = output[field];
  }
  return details;
}
