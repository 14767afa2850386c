import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { createPiChain } from "../adapters/pi-chain.js";
import { createPiPlatform } from "../adapters/pi-platform.js";
import type { PiChain, PiPlatform } from "../adapters/types.js";
import {
  LifecycleError,
  NotFoundError,
  PiPaymentsError,
  ValidationError,
} from "../domain/errors.js";
import { NETWORKS, type NetworkName, type PaymentDTO } from "../domain/payment-dto.js";
import { PAYOUT_KEY_FIELD, type PayoutArgs, parsePayoutArgs } from "../domain/payout-args.js";
import { parseWith } from "../domain/validation.js";
import { type PayoutMachine, payoutMachine } from "../machines/payout-machine.js";
import {
  describeState,
  type PayoutSnapshot,
  persistPayout,
  restorePayout,
  startPayout,
} from "../machines/step.js";
import type { PayoutCommand, PayoutIntent, PayoutState } from "../machines/types.js";
import { createSqliteStore } from "../storage/sqlite-store.js";
import type { JournalEntry, PayoutStore, StoredPayout } from "../storage/types.js";
import { type Activities, createActivities } from "./activities.js";
import { createPayoutInspection, type InspectOption } from "./inspection.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { defaultOwner, isProvablyGone } from "./owner.js";
import { type Payout, toPayout } from "./payout-view.js";
import { PayoutRunner, type PayoutTransition, type Probe } from "./runner.js";
import { createScrubber } from "./scrub.js";
import { withBlockers } from "./slot-blockers.js";
import { SlotGate } from "./slot-gate.js";
import { isStray } from "./strays.js";

/** Options of {@link createPayouts}. */
export interface PayoutsOptions {
  /** The app's server API key. Never stored, logged or put in an error. */
  apiKey: string;
  /** The app wallet's secret seed. Never stored, logged or put in an error. */
  walletSeed: string;
  network: NetworkName;
  /** @default "https://api.minepi.com" */
  apiUrl?: string;
  /** @default Pi's Horizon for `network` */
  horizonUrl?: string;
  /** Where payouts live. @default a SQLite file `pi-payments.db` in the working directory */
  store?: PayoutStore;
  /**
   * Pi allows one incomplete payment per app (documented) — or per user, which is not
   * known. Payouts queue for this slot instead of failing. @default "app"
   */
  incompleteLimit?: "app" | "user";
  /** Seconds a transaction stays valid; see {@link PiChainOptions.timeBoundSeconds}. @default 60 */
  timeBoundSeconds?: number;
  /** Channel accounts' seeds (see {@link PiChainOptions.channels}): opt-in, for throughput. @default [] */
  channels?: string[];
  /** Backoff of transient failures: first delay and ceiling, in ms. @default { baseDelayMs: 1000, maxDelayMs: 60000 } */
  retry?: { baseDelayMs?: number; maxDelayMs?: number };
  /** `not_verified` answers to complete before the payout asks a person. @default 30 */
  maxNotVerified?: number;
  /**
   * How long a create request that may be in flight (after a crash or a timeout) can still
   * make a Pi payment. Cancelling such a payout waits this long before concluding that no
   * payment exists. @default 60000
   */
  createGraceMs?: number;
  /** Envelopes in a row that may die unlanded before a payout asks a person. @default 10 */
  maxDeadEnvelopes?: number;
  /** How long a process's claim on a payout lasts without renewal. @default 30000 */
  leaseMs?: number;
  /** How often a payout waiting for a slot held by another process asks again. @default 1000 */
  slotPollMs?: number;
  /** How often to look at a payout driven by another process. @default 500 */
  pollMs?: number;
  /**
   * This runtime's name in leases and the journal. The default (`host:pid:locality.random`)
   * lets a restarted process on the same host take over the leases of one that died at
   * once; a name you choose is never judged dead, its leases expire instead.
   * @default host:pid:locality.random
   */
  owner?: string;
  /** A Pi Platform adapter to use instead of one made from apiKey and apiUrl. */
  platform?: PiPlatform;
  /** A chain adapter to use instead of one made from walletSeed and horizonUrl. */
  chain?: PiChain;
  /** Replaces effects by name. For tests (e.g. a deliberately unsafe variant); not for production. */
  activities?: Partial<Activities>;
  /** Awaited at every await point of every payout: instrumentation, and crash tests. */
  probe?: Probe;
  /** The clock, in ms. @default Date.now */
  now?: () => number;
  /**
   * Shows every payout's machine in the Stately inspector: `true` for a local inspector
   * server at ws://localhost:8080 (`pi-payments … --inspect` starts one), `{ url }`, or an
   * inspector object. Secrets never reach it. @default false
   */
  inspect?: InspectOption;
}

/** What `recover()` found and did. */
export interface RecoveryReport {
  /** Pi payments of ours that a payout had created but not yet recorded: its resume adopts them. */
  adopted: Array<{ key: string; paymentId: string }>;
  /** Incomplete Pi payments carrying a payout key this store does not know (adopted if asked). */
  orphans: PaymentDTO[];
  /** Incomplete Pi payments without a payout key: not made by pi-payments. A person decides. */
  foreign: PaymentDTO[];
  /**
   * Stray Pi payments of ours, cancelled: a create request that landed after its payout had
   * already settled without it (e.g. cancelled after a crash). No envelope was ever built
   * for them, so cancelling is safe.
   */
  cancelledStrays: PaymentDTO[];
  /** Every payout that was unfinished, as it ended. */
  resumed: Payout[];
}

/** A payout step, as subscribers receive it. */
export interface PayoutEvent {
  type: "transition";
  key: string;
  from: string;
  to: string;
  event: string;
  at: string;
  payout: Payout;
}

/** A worker draining the stored queue of payouts. */
export interface Worker {
  /** Stops claiming; the payouts in hand finish their current step, are saved, and their leases released. */
  stop(): Promise<void>;
  /** Resolves once the worker has stopped. */
  readonly done: Promise<void>;
  /** What it has done so far. */
  stats(): { claimed: number; settled: number; active: number };
}

/** Options of {@link Payouts.work}. */
export interface WorkerOptions {
  /** Payouts driven at once. @default 4 */
  concurrency?: number;
  /** How often to look for claimable payouts when there are none. @default the runtime's pollMs */
  pollMs?: number;
}

/** The durable payouts API. */
export interface Payouts {
  /** The app wallet's public address. */
  readonly walletAddress: string;
  readonly network: NetworkName;
  readonly store: PayoutStore;
  readonly owner: string;
  /**
   * Pays a user once per key and resolves with the settled payout (`completed`,
   * `cancelled`, or `failed` with a reason). Paying a key again returns the same payout.
   * @throws ValidationError for bad arguments, or a key reused with different ones
   */
  pay(args: PayoutArgs, options?: { signal?: AbortSignal }): Promise<Payout>;
  /** Stores a payout without driving it (a worker will); resolves with it at once. */
  enqueue(args: PayoutArgs): Promise<Payout>;
  /** The payout with this key, if any. */
  get(key: string): Promise<Payout | undefined>;
  /** The payout that holds this Pi payment id, if any. */
  getByPaymentId(paymentId: string): Promise<Payout | undefined>;
  /** Payouts in key order, optionally by state or settledness. */
  list(filter?: {
    state?: PayoutState | PayoutState[];
    settled?: boolean;
    limit?: number;
    afterKey?: string;
  }): Promise<Payout[]>;
  /** Every saved step of a payout, oldest first. */
  journal(key: string): Promise<JournalEntry[]>;
  /**
   * Cancels a payout as soon as it is safe and resolves with it settled: at once before
   * its Pi payment exists, by cancelling the Pi payment before a transaction is sent, or
   * once its envelope provably cannot land (if it lands, the payout completes instead).
   * @throws LifecycleError `CANCEL_TOO_LATE` once the user is paid
   */
  cancel(key: string): Promise<Payout>;
  /** Takes a failed payout up again from where it stopped. */
  retry(key: string): Promise<Payout>;
  /** Drives every unfinished payout on from its stored snapshot; with `wait`, until each settles. */
  resume(options?: { wait?: boolean }): Promise<Payout[]>;
  /** Resumes, after looking at Pi's incomplete payments: adopts ours, reports the others. */
  recover(options?: { adoptOrphans?: boolean; wait?: boolean }): Promise<RecoveryReport>;
  /** Calls `listener` after every saved step of every payout this runtime drives. */
  subscribe(listener: (event: PayoutEvent) => void): () => void;
  /**
   * Drains the queue: claims unsettled payouts that no process drives (oldest first, a
   * lease each) and drives them, `concurrency` at a time, until stopped. Any number of
   * processes may work the same store.
   */
  work(options?: WorkerOptions): Worker;
  /** Payouts this runtime is driving now. */
  active(): string[];
  /**
   * Stops driving payouts. `graceful` (default) lets each finish its current step and
   * releases leases; `abandon` stops at once and releases nothing, as a crash would.
   */
  close(options?: { abandon?: boolean }): Promise<void>;
}

const optionsSchema = z.strictObject({
  apiKey: z.string().trim().min(1, "must be your app's server API key"),
  walletSeed: z.string().min(1, "must be the app wallet's secret seed"),
  network: z.enum(NETWORKS, {
    error: () => `must be one of ${NETWORKS.map((n) => `"${n}"`).join(", ")}`,
  }),
  apiUrl: z.url({ protocol: /^https?$/ }).optional(),
  horizonUrl: z.url({ protocol: /^https?$/ }).optional(),
  store: z
    .custom<PayoutStore>(
      (v) => typeof (v as PayoutStore | undefined)?.save === "function",
      "must be a PayoutStore",
    )
    .optional(),
  incompleteLimit: z.enum(["app", "user"]).default("app"),
  timeBoundSeconds: z.number().int().min(5).optional(),
  channels: z.array(z.string()).optional(),
  retry: z
    .strictObject({
      baseDelayMs: z.number().int().min(0).default(1000),
      maxDelayMs: z.number().int().min(0).default(60_000),
    })
    .default({ baseDelayMs: 1000, maxDelayMs: 60_000 }),
  maxNotVerified: z.number().int().min(1).default(30),
  createGraceMs: z.number().int().min(0).default(60_000),
  maxDeadEnvelopes: z.number().int().min(1).default(10),
  leaseMs: z.number().int().min(10).default(30_000),
  slotPollMs: z.number().int().min(1).default(1000),
  pollMs: z.number().int().min(1).default(500),
  owner: z.string().min(1).optional(),
  platform: z
    .custom<PiPlatform>((v) => typeof (v as PiPlatform | undefined)?.createPayment === "function")
    .optional(),
  chain: z
    .custom<PiChain>((v) => typeof (v as PiChain | undefined)?.buildPayment === "function")
    .optional(),
  activities: z.record(z.string(), z.unknown()).optional(),
  probe: z.custom<Probe>((v) => typeof v === "function").optional(),
  now: z.custom<() => number>((v) => typeof v === "function").optional(),
  inspect: z
    .custom<InspectOption>((v) => typeof v === "boolean" || (typeof v === "object" && v !== null))
    .optional(),
});

/**
 * Creates the durable payouts API: every payout is an explicit state machine, saved at
 * every step, resumable after a crash, and never paid twice.
 *
 * @example
 * const payouts = createPayouts({ apiKey, walletSeed, network: "Pi Testnet" });
 * const payout = await payouts.pay({ key: "refund-order-42", uid, amount: "3.14", memo: "Refund" });
 * if (payout.state === "completed") console.log("paid in", payout.txid);
 */
export function createPayouts(options: PayoutsOptions): Payouts {
  const settings = parseWith(optionsSchema, options, "payouts options", "INVALID_OPTIONS");
  const now = settings.now ?? Date.now;
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
  const store = settings.store ?? createSqliteStore({ path: "pi-payments.db" });
  const owner = settings.owner ?? defaultOwner();
  const scrub = createScrubber([
    settings.apiKey,
    settings.walletSeed,
    ...(settings.channels ?? []),
  ]);
  // A slot held by a payout whose process died is taken over by whoever waits for it.
  const slots = new SlotGate(store, settings.slotPollMs, async (holder) => {
    if (closed || runners.has(holder)) return;
    const record = await store.get(holder);
    if (!record || !(await claimPayout(record))) return;
    if (runners.has(holder)) return;
    const latest = await store.get(holder);
    if (latest && !latest.settled) startRunner(latest, false);
    else await store.release(holder, owner);
  });
  const machine: PayoutMachine = payoutMachine;
  const activities: Activities = {
    ...createActivities({ platform, chain, store, slots, now }),
    ...(settings.activities as Partial<Activities> | undefined),
  };
  const runners = new Map<string, PayoutRunner>();
  const leases = new LeaseKeeper(store, owner, settings.leaseMs);
  const listeners = new Set<(event: PayoutEvent) => void>();
  let closed = false;

  const timing = {
    baseDelayMs: settings.retry.baseDelayMs,
    maxDelayMs: settings.retry.maxDelayMs,
    maxNotVerified: settings.maxNotVerified,
    createGraceMs: settings.createGraceMs,
    maxDeadEnvelopes: settings.maxDeadEnvelopes,
    // Twice the time bound: an envelope of another process (same bound) cannot land later.
    envelopeLifetimeMs: 2 * 1000 * (settings.timeBoundSeconds ?? 60),
  };
  const scopeOf = (uid: string) =>
    settings.incompleteLimit === "app"
      ? `app:${chain.walletAddress}`
      : `user:${chain.walletAddress}:${uid}`;

  const inspection = settings.inspect
    ? createPayoutInspection(settings.inspect, machine, scrub)
    : undefined;
  // Keep the runtime alive if the inspector cannot start; it only watches.
  inspection?.catch(() => undefined);

  const emit = (transition: PayoutTransition, snapshot: PayoutSnapshot) => {
    if (inspection) {
      void inspection.then(
        (i) => i.transition(transition.key, transition.event, transition.details, snapshot),
        () => undefined,
      );
    }
    if (listeners.size === 0) return;
    const { details: _details, ...step } = transition;
    const event: PayoutEvent = { type: "transition", ...step, payout: toPayout(transition.payout) };
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // A subscriber's bug must not stop a payout.
      }
    }
  };

  const ensureOpen = () => {
    if (closed) throw new PiPaymentsError("This payouts runtime is closed.", { code: "CLOSED" });
  };

  const startRunner = (
    record: StoredPayout,
    fresh: boolean,
    commands: Array<{ event: PayoutCommand; resolve: (accepted: boolean) => void }> = [],
    takenOverFrom?: string,
  ): PayoutRunner => {
    // Every caller claimed the payout first, and the runtime may have closed during that
    // await: a runner started now would drive the payout beside its next owner.
    ensureOpen();
    const runner = new PayoutRunner(
      {
        machine,
        store,
        activities,
        slots,
        owner,
        leaseMs: settings.leaseMs,
        leases,
        now,
        scrub,
        probe: settings.probe,
        onTransition: emit,
        forgetEnvelope: (transaction) => chain.discard(transaction),
      },
      record,
      { fresh, commands, ...(takenOverFrom === undefined ? {} : { takenOverFrom }) },
    );
    runners.set(record.key, runner);
    const forget = () => {
      if (runners.get(record.key) === runner) runners.delete(record.key);
    };
    void runner.done.then(forget, forget);
    return runner;
  };

  /**
   * Takes the leases of a runner that provably died (same host, its pid gone) at once, and
   * drives what they held: waiting out their expiry would stall every payout it held, and
   * the slot queue behind them.
   */
  const takeOverFrom = async (gone: string): Promise<string[]> => {
    const keys = await store.takeOver(gone, owner, settings.leaseMs);
    for (const key of keys) {
      if (closed || runners.has(key)) continue;
      const record = await store.get(key);
      if (record && !record.settled) startRunner(record, false, [], gone);
      else await store.release(key, owner);
    }
    return keys;
  };

  /** Takes over every lease of a provably dead runner of this host (see {@link takeOverFrom}). */
  const sweepGone = async (): Promise<string[]> => {
    const keys: string[] = [];
    for (const holder of await store.leaseOwners()) {
      if (holder !== owner && isProvablyGone(holder)) keys.push(...(await takeOverFrom(holder)));
    }
    return keys;
  };

  /** Leases a payout for this runtime: free, expired, or held by a runner that provably died. */
  const claimPayout = async (record: StoredPayout): Promise<boolean> => {
    if (await store.claim(record.key, owner, settings.leaseMs)) return true;
    const holder = record.lease?.owner;
    if (holder === undefined || holder === owner || !isProvablyGone(holder)) return false;
    return (await takeOverFrom(holder)).includes(record.key);
  };

  /** Drives a payout here if nobody else does, and resolves once it settles. */
  const settle = async (
    key: string,
    fresh: boolean,
    signal?: AbortSignal,
    leased = false,
    /** Called once the payout is taken up: driven here, found at rest, or found driven elsewhere. */
    onTakenUp: () => void = () => {},
  ): Promise<StoredPayout> => {
    let claimed = leased;
    for (;;) {
      signal?.throwIfAborted();
      ensureOpen();
      const local = runners.get(key);
      if (local) {
        onTakenUp();
        const end = await (signal ? abortable(local.done, signal) : local.done);
        if (end.status === "settled") return end.payout;
        if (end.reason === "crashed")
          throw new PiPaymentsError("The runtime stopped (crash).", { code: "CLOSED" });
        continue;
      }
      const current = await store.get(key);
      if (!current) throw new NotFoundError(`No payout with key ${key}.`);
      if (current.settled) {
        onTakenUp();
        return current;
      }
      if (claimed || (await claimPayout(current))) {
        claimed = false;
        const latest = (await store.get(key)) ?? current;
        if (!runners.has(key)) startRunner(latest, fresh && latest.version === 1);
        continue;
      }
      // Driven by another process: watch it.
      onTakenUp();
      await (signal ? sleep(settings.pollMs, undefined, { signal }) : sleep(settings.pollMs));
    }
  };

  /** Delivers a command to a payout, driving it here if nobody else does. */
  const command = async (key: string, type: PayoutCommand["type"]): Promise<boolean> => {
    ensureOpen();
    const event = { type, at: now() } as PayoutCommand;
    const local = runners.get(key);
    if (local) return local.send(event);
    const current = await store.get(key);
    if (!current) throw new NotFoundError(`No payout with key ${key}.`);
    const claimed = await claimPayout(current);
    // Taken over from a dead runner: its runner is already going here.
    const running = runners.get(key);
    if (running) return running.send(event);
    if (!claimed) {
      const lease = current.lease;
      throw new LifecycleError(
        `Payout ${key} is being driven by another process${lease ? ` (${lease.owner}, lease until ${lease.expiresAt})` : ""}; ${type.toLowerCase()} it there, or once it stops.`,
        { code: "PAYOUT_BUSY" },
      );
    }
    const record = (await store.get(key)) ?? current;
    return new Promise<boolean>((resolve) => startRunner(record, false, [{ event, resolve }]));
  };

  const insert = async (
    args: PayoutArgs,
    adopt = false,
    lease = false,
  ): Promise<{ created: boolean; payout: StoredPayout }> => {
    ensureOpen();
    const valid = parsePayoutArgs(args);
    const intent: PayoutIntent = {
      uid: valid.uid,
      amount: valid.amount,
      memo: valid.memo,
      metadata: valid.metadata,
    };
    const snapshot = startPayout(
      {
        key: valid.key,
        intent,
        walletAddress: chain.walletAddress,
        network: settings.network,
        slotScope: scopeOf(valid.uid),
        timing,
        adopt,
        at: now(),
      },
      machine,
    );
    const at = new Date(now()).toISOString();
    const { state, detail } = describeState(snapshot);
    const result = await store.create(
      {
        key: valid.key,
        intent,
        write: {
          snapshot: scrub(persistPayout(snapshot, machine)),
          state,
          stateDetail: detail,
          paymentId: null,
          txid: null,
          settled: false,
          holdsSlot: true,
          at,
        },
      },
      {
        at,
        from: null,
        to: detail,
        event: adopt ? "ADOPT" : "PAY",
        details: { uid: valid.uid, amount: valid.amount },
        owner,
      },
      // pay() drives what it creates: lease it at once (enqueue leaves it to the workers).
      lease ? { owner, ttlMs: settings.leaseMs } : undefined,
    );
    if (!result.created && !sameIntent(result.payout.intent, intent)) {
      throw new ValidationError(
        `Payout key "${valid.key}" was already used for a different payout (${result.payout.intent.amount} Pi to ${result.payout.intent.uid}). Use a new key for a new payout.`,
        [{ path: "key", message: "already used with different arguments" }],
        "KEY_REUSED",
      );
    }
    return result;
  };

  const view = async (record: StoredPayout | undefined) =>
    record ? (await withBlockers(store, [record]))[0] : undefined;

  const resume: Payouts["resume"] = async ({ wait = true } = {}) => {
    ensureOpen();
    await sweepGone();
    const unfinished: StoredPayout[] = [];
    for (let page = await store.list({ settled: false, limit: 500 }); page.length > 0; ) {
      unfinished.push(...page);
      page = await store.list({ settled: false, limit: 500, afterKey: page[page.length - 1]!.key });
    }
    // Taken up a batch at a time: ten thousand claims at once would swamp the store.
    const settling: Array<Promise<StoredPayout>> = [];
    for (let i = 0; i < unfinished.length; i += 32) {
      await Promise.all(
        unfinished.slice(i, i + 32).map(
          ({ key }) =>
            new Promise<void>((takenUp) => {
              const settled = settle(key, false, undefined, false, takenUp);
              settling.push(settled);
              settled.then(
                () => takenUp(),
                () => takenUp(),
              );
            }),
        ),
      );
    }
    if (!wait) {
      for (const promise of settling) promise.catch(() => undefined);
      return unfinished.map(toPayout);
    }
    return (await Promise.all(settling)).map(toPayout);
  };

  return {
    walletAddress: chain.walletAddress,
    network: settings.network,
    store,
    owner,

    async pay(args, payOptions = {}) {
      const { created, payout } = await insert(args, false, true);
      if (created) emitCreated(payout);
      if (payout.settled) return toPayout(payout);
      return toPayout(await settle(payout.key, created, payOptions.signal, created));
    },

    async enqueue(args) {
      const { created, payout } = await insert(args);
      if (created) emitCreated(payout);
      return toPayout(payout);
    },

    get: async (key) => view(await store.get(key)),
    getByPaymentId: async (paymentId) => view(await store.findByPaymentId(paymentId)),
    list: async (filter = {}) => withBlockers(store, await store.list(filter)),
    journal: (key) => store.journal(key),

    async cancel(key) {
      const record = await store.get(key);
      if (!record) throw new NotFoundError(`No payout with key ${key}.`);
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
      await command(key, "CANCEL");
      return toPayout(await settle(key, false));
    },

    async retry(key) {
      const record = await store.get(key);
      if (!record) throw new NotFoundError(`No payout with key ${key}.`);
      if (record.state !== "failed") {
        throw new LifecycleError(
          `Payout ${key} is ${record.state}, not failed: nothing to retry.`,
          { code: "NOT_FAILED" },
        );
      }
      await command(key, "RETRY");
      return toPayout(await settle(key, false));
    },

    resume,

    async recover({ adoptOrphans = false, wait = true } = {}) {
      ensureOpen();
      const report: RecoveryReport = {
        adopted: [],
        orphans: [],
        foreign: [],
        cancelledStrays: [],
        resumed: [],
      };
      for (const payment of await platform.incompleteServerPayments()) {
        const key = payment.metadata?.[PAYOUT_KEY_FIELD];
        if (typeof key !== "string") {
          report.foreign.push(payment);
          continue;
        }
        const record = await store.get(key);
        if (record) {
          if (isStray(record, payment))
            report.cancelledStrays.push(await platform.cancelPayment(payment.identifier));
          else if (record.paymentId === null)
            report.adopted.push({ key, paymentId: payment.identifier });
          else if (record.paymentId !== payment.identifier) report.orphans.push(payment);
          continue;
        }
        report.orphans.push(payment);
        if (adoptOrphans) {
          const { [PAYOUT_KEY_FIELD]: _ours, ...metadata } = payment.metadata ?? {};
          await insert(
            { key, uid: payment.user_uid, amount: payment.amount, memo: payment.memo, metadata },
            true,
          );
          report.adopted.push({ key, paymentId: payment.identifier });
        }
      }
      report.resumed = await resume({ wait });
      return report;
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    active: () => [...runners.keys()],

    work(workerOptions = {}) {
      ensureOpen();
      const concurrency = workerOptions.concurrency ?? 4;
      const pollMs = workerOptions.pollMs ?? settings.pollMs;
      const mine = new Set<PayoutRunner>();
      let claimed = 0;
      let settled = 0;
      let stopping = false;
      let wake: (() => void) | undefined;
      const nap = () =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      const track = (runner: PayoutRunner) => {
        mine.add(runner);
        void runner.done.then(
          (end) => {
            mine.delete(runner);
            if (end.status === "settled") settled += 1;
            wake?.();
          },
          () => {
            mine.delete(runner);
            wake?.();
          },
        );
      };
      // A dead runner of this host is looked for now and then: its leases are taken over at
      // once rather than after they expire.
      const sweepEveryMs = Math.max(pollMs, Math.floor(settings.leaseMs / 3));
      let sweptAt = Number.NEGATIVE_INFINITY;
      const loop = async () => {
        while (!stopping && !closed) {
          if (Date.now() - sweptAt >= sweepEveryMs) {
            sweptAt = Date.now();
            for (const key of await sweepGone().catch(() => [])) {
              const runner = runners.get(key);
              if (runner && !mine.has(runner)) {
                claimed += 1;
                track(runner);
              }
            }
          }
          let took = false;
          while (!stopping && mine.size < concurrency) {
            const payout = await store
              .claimNext(owner, settings.leaseMs, [...runners.keys()])
              .catch(() => undefined);
            if (!payout || stopping || closed) break;
            took = true;
            claimed += 1;
            // Version 1 has never run an effect (the first one queues for a slot): nothing to replay.
            track(runners.get(payout.key) ?? startRunner(payout, payout.version === 1));
          }
          if (!took || mine.size >= concurrency) await nap();
        }
        for (const runner of mine) runner.stop("closed");
        await Promise.allSettled([...mine].map((runner) => runner.done));
      };
      const done = loop();
      return {
        done,
        async stop() {
          stopping = true;
          wake?.();
          await done;
        },
        stats: () => ({ claimed, settled, active: mine.size }),
      };
    },

    async close({ abandon = false } = {}) {
      if (closed) return;
      closed = true;
      const running = [...runners.values()];
      for (const runner of running) runner.stop(abandon ? "crashed" : "closed");
      // Abandoning is a crash: nothing is waited for, a step in flight is simply dropped,
      // and no lease is renewed any more (a dead process renews nothing).
      if (abandon) {
        leases.stop();
        return;
      }
      await Promise.allSettled(running.map((runner) => runner.done));
      leases.stop();
      await platform.close();
      await chain.close();
      await inspection?.then(
        (i) => i.stop(),
        () => undefined,
      );
    },
  };

  function emitCreated(payout: StoredPayout) {
    const event = payout.snapshot.context.createAttempts > 0 ? "ADOPT" : "PAY";
    emit(
      {
        key: payout.key,
        from: "",
        to: payout.stateDetail,
        event,
        details: {},
        at: payout.createdAt,
        payout,
      },
      restorePayout(payout.snapshot, machine),
    );
  }
}

function sameIntent(a: PayoutIntent, b: PayoutIntent): boolean {
  return (
    a.uid === b.uid &&
    a.amount === b.amount &&
    a.memo === b.memo &&
    stableJson(a.metadata) === stableJson(b.metadata)
  );
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
