import { setTimeout as sleep } from "node:timers/promises";
import { isConflictError, serializeError } from "../domain/errors.js";
import { runEffect } from "../machines/effects.js";
import type { PendingInvoke } from "../machines/xstate-adapter.js";
import type { StoredPayout } from "../storage/types.js";
import type { MachineEvent } from "./durable-machine.js";
import { EffectCall } from "./effect-call.js";
import { eventName } from "./payout-journal.js";
import { ProbeCrash } from "./probe-crash.js";
import {
  type HookRefusal,
  HookRefused,
  isHookRefusal,
  refusalDelayMs,
  restHookFor,
  saveHookRefusal,
  upcoming,
} from "./rest-hook.js";
import type {
  Command,
  ProbePoint,
  QueuedCommand,
  RunEnd,
  RunnerDeps,
  RunWatch,
} from "./runner-types.js";
import { scrubbedWrite } from "./scrub.js";

const commandReady = Symbol("command");

/**
 * Drives one stored machine (a payout), which it holds the lease of, until it rests or must
 * stop.
 *
 * Each turn: the stored snapshot names one pending effect; the effect runs; its result
 * becomes an event; xstate's pure `transition()` gives the next snapshot; the store saves
 * it (compare-and-set, fenced by the lease, journal line in the same step); only then does
 * the next effect start. So an effect never starts before the state that performs it is
 * durable (DESIGN P1), and a crash anywhere resumes from the last saved state.
 */
export class MachineRunner<Snapshot> {
  readonly key: string;
  readonly done: Promise<RunEnd>;
  private record: StoredPayout;
  private snapshot: Snapshot;
  private readonly commands: QueuedCommand[] = [];
  private wakeForCommand: (() => void) | undefined;
  private stopReason: "closed" | "lease_lost" | "crashed" | undefined;
  /** A graceful stop asked while an effect with outside consequences ran: stop once it is saved. */
  private stopAfterStep = false;
  /** The last save brought it to rest and gave the lease up with it. */
  private leaseReleased = false;
  private loopOver = false;
  private currentEffect: PendingInvoke | undefined;
  private readonly stopController = new AbortController();
  /** Refusals of the rest hook in a row (carried over from the store across processes). */
  private hookAttempts: number;
  /** Telemetry's watch of this run, if any (RunnerDeps.observer). */
  private readonly watch: RunWatch | undefined;

  constructor(
    private readonly deps: RunnerDeps<Snapshot>,
    record: StoredPayout,
    options: {
      /** Nothing was ever acted on from this record (version 1): nothing to replay. */
      fresh: boolean;
      commands?: QueuedCommand[];
      /** The runner whose lease was taken over because its process is provably gone. */
      takenOverFrom?: string;
    },
  ) {
    this.key = record.key;
    // Queued before the loop starts, so that a payout at rest sees them on its first turn.
    this.commands.push(...(options.commands ?? []));
    this.record = record;
    this.hookAttempts = record.hookFailure?.attempts ?? 0;
    this.snapshot = deps.machine.restore(record.snapshot);
    deps.leases.keep(this.key, () => this.leaseLost());
    const watch = deps.observer?.started(record, this.snapshot);
    this.watch = watch;
    this.done = this.loop(options.fresh, options.takenOverFrom);
    // Told after the loop's own cleanup; a rejected `done` is still the caller's to see.
    if (watch) {
      this.done.then(
        (end) => watch.ended(end),
        () => watch.ended(undefined),
      );
    }
  }

  /** The loop is over, commands refused (the registry counts it gone before `done`). */
  get finished(): boolean {
    return this.loopOver;
  }

  /** Queues a command; resolves true if the machine accepted it (and it was saved). */
  send(event: Command): Promise<boolean> {
    if (this.loopOver) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.commands.push({ event, resolve });
      this.wakeForCommand?.();
    });
  }

  /**
   * Stops the runner. `closed` is graceful: the step in flight is finished and saved (a
   * harmless effect, a wait or a slot queue, is cut short), then the lease is released.
   * `crashed` stops at the next await point and releases nothing, as a killed process would.
   */
  stop(reason: "closed" | "crashed"): void {
    const effect = this.currentEffect;
    if (reason === "closed" && effect && !this.deps.machine.harmless.has(effect.src)) {
      this.stopAfterStep = true;
      return;
    }
    this.stopReason ??= reason;
    this.stopController.abort();
    this.wakeForCommand?.();
  }

  /** The lease keeper found this payout's lease gone: another runner may drive it now. */
  private leaseLost(): void {
    // A lease given up with the save that brought it to rest is not lost: the renewal raced it.
    if (!this.stopReason && !this.leaseReleased) {
      this.stopReason = "lease_lost";
      this.stopController.abort();
      this.wakeForCommand?.();
    }
  }

  private async loop(fresh: boolean, takenOverFrom: string | undefined): Promise<RunEnd> {
    const { machine } = this.deps;
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
        // Commands first: RETRY and CANCEL are how a payout at rest (failed) moves again.
        await this.applyCommands(undefined);
        if (this.stopReason) break;
        const effect = machine.pendingEffect(this.snapshot);
        if (!effect) return { status: "at rest", payout: this.record };
        await this.probe({
          point: "effect:start",
          key: this.key,
          effect: effect.src,
          state: this.detail,
        });
        this.currentEffect = effect;
        const call = new EffectCall(replay, this.stopController.signal);
        const run = () => this.execute(effect, call);
        const result = this.watch ? this.watch.effect(effect, run) : run();
        replay = false;
        let kept = false;
        try {
          for (;;) {
            const next = await Promise.race([result, this.commandArrival()]);
            if (this.stopReason) break;
            if (next === commandReady) {
              if (await this.applyCommands(effect)) {
                call.abort();
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
            try {
              await this.commit(next);
              kept = true;
            } catch (error) {
              if (!(error instanceof HookRefused)) throw error;
              // Nothing of the step was saved: the effect before it runs again (it is
              // repeatable, as after a crash), and its result is saved with the hook again.
              replay = true;
            }
            break;
          }
        } finally {
          this.currentEffect = undefined;
          call.release();
          // A result not saved is never acted on by anyone: let go of what it holds (an
          // envelope's sequence number, which this process's next build would wait out).
          if (!kept) void result.then((event) => machine.discardOutput(event.output));
        }
      }
    } catch (error) {
      if (isConflictError(error)) this.stopReason ??= "lease_lost";
      else if (this.stopReason === undefined) this.stopReason = "crashed";
      if (!isConflictError(error) && !(error instanceof ProbeCrash)) throw error;
    } finally {
      this.loopOver = true;
      this.deps.leases.forget(this.key);
      // Whoever drives this payout next (here or elsewhere) takes what it holds over.
      machine.leave(this.snapshot);
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

  private get detail(): string {
    return this.deps.machine.describe(this.snapshot).detail;
  }

  /**
   * Journals the hook's refusal with the machine unchanged (status, list and the events show
   * it), waits the backoff, and has the caller try the step again.
   */
  private async hookRefused(error: HookRefusal): Promise<never> {
    this.hookAttempts += 1;
    const delay = refusalDelayMs(error, this.hookAttempts, this.deps.hookBackoffMs);
    const { record, step } = await saveHookRefusal(this.deps, {
      record: this.record,
      snapshot: this.snapshot,
      attempts: this.hookAttempts,
      delayMs: delay,
      error,
    });
    this.record = record;
    this.deps.onStep(step, this.snapshot);
    this.watch?.saved(step);
    await sleep(delay, undefined, { signal: this.stopController.signal }).catch(() => undefined);
    throw new HookRefused();
  }

  private async probe(point: ProbePoint): Promise<void> {
    if (!this.deps.probe) return;
    try {
      await this.deps.probe(point);
    } catch {
      this.stopReason ??= "crashed";
      throw new ProbeCrash();
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
  private async applyCommands(running: PendingInvoke | undefined): Promise<boolean> {
    const { machine, store, owner, leaseMs } = this.deps;
    let stoppedRunning = false;
    for (let command = this.commands.shift(); command; command = this.commands.shift()) {
      if (this.stopReason) {
        command.resolve(false);
        continue;
      }
      const next = machine.step(this.snapshot, command.event);
      if (next === this.snapshot) {
        command.resolve(false);
        continue;
      }
      // The save that brought it to rest gave the lease up; a command just after needs it back.
      if (this.leaseReleased) {
        if (!(await store.claim(this.key, owner, leaseMs))) {
          command.resolve(false);
          continue;
        }
        this.leaseReleased = false;
      }
      const { by, reason } = command.event;
      try {
        await this.save(
          next,
          command.event.type,
          { ...(by === undefined ? {} : { by }), ...(reason === undefined ? {} : { reason }) },
          command.event.at,
        );
      } catch (error) {
        if (!(error instanceof HookRefused)) throw error;
        // The command's step was rolled back with the hook: it is tried again next turn.
        this.commands.unshift(command);
        return stoppedRunning;
      }
      command.resolve(true);
      const after = machine.pendingEffect(next);
      if (
        running !== undefined &&
        (after?.id !== running.id || after.stateNode !== running.stateNode)
      ) {
        stoppedRunning = true;
      }
    }
    return stoppedRunning;
  }

  private async execute(effect: PendingInvoke, call: EffectCall): Promise<MachineEvent> {
    const { machine, now, scrub } = this.deps;
    try {
      const output = await runEffect(machine.effects, effect.src, effect.input, call);
      return { type: `xstate.done.actor.${effect.id}`, output: { ...output, at: now() } };
    } catch (error) {
      return {
        type: `xstate.error.actor.${effect.id}`,
        error: { ...scrub(serializeError(error)), at: now() },
      };
    }
  }

  private async commit(event: MachineEvent): Promise<void> {
    const next = this.deps.machine.step(this.snapshot, event);
    const at =
      (event.output as { at?: number } | undefined)?.at ??
      (event.error as { at?: number } | undefined)?.at;
    await this.save(next, eventName(event), this.deps.machine.journalDetails(event), at);
  }

  private async save(
    next: Snapshot,
    event: string,
    details: Record<string, unknown>,
    at = this.deps.now(),
  ): Promise<void> {
    const { machine, scrub, store, owner } = this.deps;
    const from = this.detail;
    const iso = new Date(at).toISOString();
    const write = scrubbedWrite(machine.write(next, iso), scrub);
    const releaseSlot = machine.releasedSlot(next);
    const scrubbedDetails = scrub(details);
    const view = machine.view(upcoming(this.record, write));
    const hook = restHookFor(this.deps, this.record, write, view);
    await this.probe({ point: "save:start", key: this.key, state: write.stateDetail, event });
    try {
      this.record = await store.save(
        this.key,
        this.record.version,
        write,
        { at: iso, from, to: write.stateDetail, event, details: scrubbedDetails, owner, view },
        {
          owner,
          ...(releaseSlot === undefined ? {} : { releaseSlot }),
          // A payout at rest needs no driver: the lease goes in the same step, saving a write.
          ...(write.atRest ? { release: true } : {}),
          ...(machine.mustSurvivePowerCut(this.snapshot, next) ? { durable: true } : {}),
          ...(hook ? { within: hook } : {}),
        },
      );
    } catch (error) {
      if (isHookRefusal(error)) await this.hookRefused(error);
      throw error;
    }
    if (hook) this.hookAttempts = 0;
    this.leaseReleased = write.atRest;
    this.snapshot = next;
    if (releaseSlot !== undefined) this.deps.onSlotFreed(releaseSlot);
    const step = {
      key: this.key,
      from,
      to: write.stateDetail,
      event,
      details: scrubbedDetails,
      at: iso,
      payout: this.record,
    };
    this.deps.onStep(step, next);
    this.watch?.saved(step);
    await this.probe({ point: "save:end", key: this.key, state: write.stateDetail, event });
  }
}
