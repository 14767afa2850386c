import { createPiChain } from "../adapters/pi-chain.js";
import { createPiPlatform } from "../adapters/pi-platform.js";
import { LifecycleError, NotFoundError } from "../domain/errors.js";
import { createEventFeed } from "../events/event-feed.js";
import { payoutMachine } from "../machines/payout-machine.js";
import type { RetryTiming } from "../machines/types.js";
import type { StoredPayout } from "../storage/types.js";
import { createPayoutTelemetry } from "../telemetry/payout-telemetry.js";
import type { IntakeTrace } from "../telemetry/payout-tracing.js";
import { parseCommandOptions, parseEnqueueOptions } from "./command-options.js";
import { defaultStore } from "./default-store.js";
import { createDriver } from "./driver.js";
import { createIntake } from "./intake.js";
import { registerInternals } from "./internals.js";
import { createLeaseClaims } from "./lease-claims.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { onSettledHook } from "./on-settled.js";
import { type PayoutsOptions, parsePayoutsOptions } from "./options.js";
import { defaultOwner } from "./owner.js";
import { payoutDurableMachine } from "./payout-durable-machine.js";
import { createPayoutEffects } from "./payout-effects.js";
import { toPayout } from "./payout-view.js";
import { recoverPayments } from "./recover.js";
import { resumeAll } from "./resume.js";
import { RunnerRegistry } from "./runner-registry.js";
import { createScrubber } from "./scrub.js";
import { checkSetup } from "./setup-check.js";
import { withBlockers } from "./slot-blockers.js";
import { SlotGate } from "./slot-gate.js";
import { createStepFanOut } from "./step-fan-out.js";
import type { Payouts } from "./types.js";

/** What intake answers: the payout, and whether this call created it. */
type Taken = { created: boolean; payout: StoredPayout };

/**
 * Creates the durable payouts API: every payout is an explicit state machine, saved at
 * every step, resumable after a crash, and never paid twice. This file only wires: each
 * concept lives in its own (intake, driver, lease claims, resume, recover, the runner).
 *
 * @example
 * const payouts = createPayouts({ apiKey, walletSeed, network: "Pi Testnet", store });
 * const payout = await payouts.pay({ key: "refund-order-42", uid, amount: "3.14", memo: "Refund" });
 * if (payout.state === "completed") console.log("paid in", payout.txid);
 */
export function createPayouts(options: PayoutsOptions): Payouts {
  const settings = parsePayoutsOptions(options);
  const { now, leaseMs } = settings;
  const platform =
    settings.platform ??
    createPiPlatform({
      apiKey: settings.apiKey,
      ...(settings.apiUrl ? { baseUrl: settings.apiUrl } : {}),
    });
  const chain =
    settings.chain ??
    createPiChain({
      network: settings.network,
      walletSeed: settings.walletSeed,
      ...(settings.horizonUrl ? { horizonUrl: settings.horizonUrl } : {}),
      ...(settings.timeBoundSeconds ? { timeBoundSeconds: settings.timeBoundSeconds } : {}),
      ...(settings.channels ? { channels: settings.channels } : {}),
    });
  const store = settings.store ?? defaultStore();
  const owner = settings.owner ?? defaultOwner();
  const scrub = createScrubber([
    settings.apiKey,
    settings.walletSeed,
    ...(settings.channels ?? []),
  ]);
  const timing: RetryTiming = {
    ...settings.backoff,
    maxNotVerified: settings.maxNotVerified,
    createGraceMs: settings.createGraceMs,
    maxDeadEnvelopes: settings.maxDeadEnvelopes,
    // Twice the time bound: an envelope of another process (same bound) cannot land later.
    envelopeLifetimeMs: 2 * 1000 * chain.timeBoundSeconds,
  };
  const scopeOf = (uid: string) =>
    settings.incompleteLimit === "app"
      ? `app:${chain.walletAddress}`
      : `user:${chain.walletAddress}:${uid}`;
  const telemetry = createPayoutTelemetry(settings.telemetry, {
    network: settings.network,
    account: () => chain.account(),
  });

  const steps = createStepFanOut({ machine: payoutMachine, scrub, inspect: settings.inspect });
  const leases = new LeaseKeeper(store, owner, leaseMs);
  // The slot gate, the effects and the runners need each other: the gate is told of a
  // dead holder through `claims`, made once the runners exist.
  const slots = new SlotGate(store, settings.slotPollMs, (holder) => driveDeadHolder(holder));
  const effects = {
    ...createPayoutEffects({ platform, chain, store, slots, now }),
    ...settings.effects,
  };
  const runners = new RunnerRegistry({
    machine: payoutDurableMachine({
      machine: payoutMachine,
      effects,
      giveBack: (transaction) => chain.giveBack(transaction),
    }),
    store,
    owner,
    leaseMs,
    leases,
    now,
    scrub,
    probe: settings.probe,
    onStep: steps.step,
    onSlotFreed: (scope) => slots.notify(scope),
    onRest: onSettledHook(settings.onSettled, store),
    observer: telemetry?.observer,
    // A refusing hook waits as a transient failure does: doubling up to the ceiling.
    hookBackoffMs: (attempt) =>
      Math.min(settings.backoff.maxDelayMs, settings.backoff.baseDelayMs * 2 ** (attempt - 1)),
  });
  const events = createEventFeed({
    store,
    owner,
    onLocalStep: (wake) => steps.onStep(wake),
  });
  const claims = createLeaseClaims({ store, owner, leaseMs, runners });
  const driver = createDriver({ store, runners, claims, pollMs: settings.pollMs });
  const intake = createIntake({
    store,
    walletAddress: chain.walletAddress,
    network: settings.network,
    scopeOf,
    timing,
    now,
    scrub,
    owner,
    leaseMs,
    mayTakeSlot: (scope) => !slots.hasWaiters(scope),
  });

  /**
   * Takes a payout in within its trace's first span (telemetry on), the traceparent stored
   * with it. `take` is called at once, not after an await: enqueue({ tx }) on SQLite must
   * insert synchronously (and may throw there).
   */
  function traced<T extends Taken | Promise<Taken>>(
    kind: "pay" | "enqueue",
    take: (traceparent: string | undefined) => T,
  ): T {
    if (!telemetry) return take(undefined);
    const trace = telemetry.intake(kind);
    let taken: T;
    try {
      taken = take(trace.traceparent);
    } catch (error) {
      trace.fail(error);
      throw error;
    }
    if (taken instanceof Promise) return settled(taken, trace) as T;
    trace.settle(taken as Taken);
    return taken;
  }

  async function settled(taking: Promise<Taken>, trace: IntakeTrace): Promise<Taken> {
    let taken: Taken;
    try {
      taken = await taking;
    } catch (error) {
      trace.fail(error);
      throw error;
    }
    trace.settle(taken);
    return taken;
  }

  /** A slot held by a payout nobody drives any more (its process died): drive it here. */
  async function driveDeadHolder(holder: string): Promise<void> {
    if (runners.isClosed || runners.has(holder)) return;
    const record = await store.get(holder);
    if (!record || !(await claims.claim(record)) || runners.has(holder)) return;
    const latest = await store.get(holder);
    if (latest && !latest.atRest) runners.start(latest, { fresh: false });
    else await store.release(holder, owner);
  }

  const resume: Payouts["resume"] = (resumeOptions) => {
    runners.ensureOpen();
    return resumeAll({ store, claims, driver }, resumeOptions);
  };

  const payouts: Payouts = {
    walletAddress: chain.walletAddress,
    network: settings.network,
    store,
    owner,

    async pay(args, payOptions = {}) {
      runners.ensureOpen();
      const { created, payout } = await traced("pay", (traceparent) =>
        intake.insert(args, { lease: true, traceparent }),
      );
      if (created) steps.created(payout);
      if (payout.atRest) return toPayout(payout);
      const signal = payOptions.signal;
      try {
        return toPayout(
          await driver.untilAtRest(payout.key, {
            fresh: created,
            leased: created,
            ...(signal ? { signal } : {}),
          }),
        );
      } catch (error) {
        // Closed (gracefully) while the insert was in flight: nobody here drives the new
        // payout, which came leased to us and may hold Pi's slot. Give the lease back, as
        // a closing runner does, so another process takes it up now, not when it lapses.
        const closed = (error as { code?: unknown }).code === "CLOSED";
        if (created && closed && runners.closedGracefully && !runners.has(payout.key))
          await store.release(payout.key, owner).catch(() => undefined);
        throw error;
      } finally {
        // The span pay() began ends now if no runner here took it (refused, aborted).
        if (created) telemetry?.intakeDone(payout.key);
      }
    },

    enqueue(args, enqueueOptions) {
      const asked = (enqueueOptions as { tx?: unknown } | undefined)?.tx;
      if (asked !== undefined && store.hostTransactions === "sync") {
        const { tx } = parseEnqueueOptions(enqueueOptions);
        // Inside the host's synchronous transaction function: stored before this returns,
        // and a refusal throws here so that the host's transaction rolls back with it.
        runners.ensureOpen();
        // Not announced to subscribe() here: the host may still roll it back. The event
        // feed tells of it once the host commits.
        const { payout } = traced("enqueue", (traceparent) =>
          intake.insertWithin(tx, args, traceparent),
        );
        return Promise.resolve(toPayout(payout));
      }
      return (async () => {
        const { tx } = parseEnqueueOptions(enqueueOptions);
        runners.ensureOpen();
        const { created, payout } = await traced("enqueue", (traceparent) =>
          intake.insert(args, { ...(tx === undefined ? {} : { tx }), traceparent }),
        );
        // Inside the host's transaction it may still be rolled back: the feed tells of it.
        if (created && tx === undefined) steps.created(payout);
        return toPayout(payout);
      })();
    },

    get: async (key) => {
      const record = await store.get(key);
      return record ? (await withBlockers(store, [record]))[0] : undefined;
    },
    getByPaymentId: async (paymentId) => {
      const record = await store.findByPaymentId(paymentId);
      return record ? (await withBlockers(store, [record]))[0] : undefined;
    },
    list: async (filter = {}) => withBlockers(store, await store.list(filter)),
    journal: (key) => store.journal(key),

    async cancel(key, commandOptions) {
      const asked = parseCommandOptions(commandOptions);
      const record = await store.get(key);
      if (!record) throw new NotFoundError(`No payout with key ${key} in this store.`);
      if (record.state === "cancelled") return toPayout(record);
      const failure = record.snapshot.context.failure;
      if (
        record.state === "completed" ||
        record.state === "txStored" ||
        failure?.resumeFrom === "txStored"
      ) {
        throw new LifecycleError(
          `Payout ${key} cannot be cancelled: its transaction ${record.txid ?? ""} is in a ledger, the user is paid.`,
          { code: "CANCEL_TOO_LATE" },
        );
      }
      await driver.command(key, { type: "CANCEL", at: now(), ...asked });
      return toPayout(await driver.untilAtRest(key));
    },

    async retry(key, commandOptions) {
      const asked = parseCommandOptions(commandOptions);
      const record = await store.get(key);
      if (!record) throw new NotFoundError(`No payout with key ${key} in this store.`);
      if (record.state !== "failed") {
        throw new LifecycleError(
          `Payout ${key} is ${record.state}, not failed: nothing to retry.`,
          {
            code: "NOT_FAILED",
          },
        );
      }
      await driver.command(key, { type: "RETRY", at: now(), ...asked });
      return toPayout(await driver.untilAtRest(key));
    },

    resume,
    recover: (recoverOptions) => {
      runners.ensureOpen();
      return recoverPayments({ platform, store, insert: intake.insert, resume }, recoverOptions);
    },
    events,
    subscribe: (listener) => steps.subscribe(listener),
    check: (checkOptions) =>
      checkSetup(
        {
          platform,
          chain,
          store,
          network: settings.network,
          ...(settings.apiUrl ? { apiUrl: settings.apiUrl } : {}),
        },
        checkOptions,
      ),
    active: () => runners.keys(),
    flushTelemetry: () => telemetry?.flush(),

    async close({ abandon = false } = {}) {
      if (runners.isClosed) return;
      // Abandoning is a crash: nothing is waited for, a step in flight is simply dropped,
      // and no lease is renewed any more (a dead process renews nothing).
      await runners.closeAll(abandon ? "crashed" : "closed");
      leases.stop();
      telemetry?.close();
      if (abandon) return;
      await platform.close();
      await chain.close();
      await steps.stop();
    },
  };
  registerInternals(payouts, { store, owner, leaseMs, pollMs: settings.pollMs, runners, claims });
  return payouts;
}
