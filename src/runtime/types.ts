import type { NetworkName, PaymentDTO } from "../domain/payment-dto.js";
import type { PayoutArgs } from "../domain/payout-args.js";
import type { PayoutEvents } from "../events/event-feed.js";
import type { PayoutState } from "../machines/types.js";
import type { JournalEntry, PayoutStore } from "../storage/types.js";
import type { Payout } from "./payout-view.js";
import type { SetupCheckOptions, SetupReport } from "./setup-check.js";

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
   * already ended without it (e.g. cancelled after a crash). No envelope was ever built for
   * them, so cancelling is safe.
   */
  cancelledStrays: PaymentDTO[];
  /** Every payout that was unfinished, as it ended. */
  resumed: Payout[];
}

/** One saved step of a payout, as `subscribe()` listeners receive it (in this process only). */
export interface PayoutStep {
  key: string;
  /** The state path before (empty for a new payout). */
  from: string;
  /** The state path after, e.g. `submitted.waiting`. */
  to: string;
  /** What caused it: `PAY`, `CANCEL`, `submitTransaction.done`… */
  event: string;
  at: string;
  payout: Payout;
}

/** Options of `pay()`. */
export interface PayOptions {
  /**
   * Stops *waiting*, not the payout: `pay()` then rejects with `PAY_WAIT_ABORTED`, and the
   * payout goes on (follow it with `get(key)`).
   */
  signal?: AbortSignal;
}

/** What `list()` filters on. */
export interface PayoutFilter {
  state?: PayoutState | PayoutState[];
  /** Only payouts at rest (true) or still moving (false). */
  atRest?: boolean;
  /** @default 100 */
  limit?: number;
  /** Keys sorting after this one, bytewise (paging). */
  afterKey?: string;
}

/** Who asks for a cancel or a retry, and why: journaled, and in the events' `actor`. */
export interface CommandOptions {
  /** The person (or system) asking, e.g. an operator's login. */
  by?: string;
  /** Why, in a few words. */
  reason?: string;
}

/** Options of `enqueue()`. */
export interface EnqueueOptions {
  /**
   * Your open transaction to store the payout in, so that it exists if and only if your
   * transaction commits (an order marked "refunding" always has its payout). SQLite: the
   * better-sqlite3 database the store was created with (`createSqliteStore({ database })`),
   * inside `db.transaction(…)`: the payout is inserted before `enqueue` returns its promise.
   * PostgreSQL: the pg client your transaction runs on. A worker (or `resume()`) drives it
   * once you commit.
   */
  tx?: unknown;
}

/** The durable payouts API. */
export interface Payouts {
  /** The app wallet's public address. */
  readonly walletAddress: string;
  readonly network: NetworkName;
  readonly store: PayoutStore;
  readonly owner: string;
  /**
   * Pays a user once per key and resolves once the payout rests (`completed`, `cancelled`,
   * or `failed` with a reason). Paying a key again returns the same payout.
   * @throws ValidationError for bad arguments, or a key reused with different ones
   * @throws PiPaymentsError `PAY_WAIT_ABORTED` when `signal` aborts (the payout goes on)
   */
  pay(args: PayoutArgs, options?: PayOptions): Promise<Payout>;
  /** Stores a payout without driving it (a worker will); resolves with it at once. */
  enqueue(args: PayoutArgs, options?: EnqueueOptions): Promise<Payout>;
  /** The payout with this key, if any. */
  get(key: string): Promise<Payout | undefined>;
  /** The payout that holds this Pi payment id, if any. */
  getByPaymentId(paymentId: string): Promise<Payout | undefined>;
  /** Payouts in key order (bytewise), optionally by state or by rest. */
  list(filter?: PayoutFilter): Promise<Payout[]>;
  /** Every saved step of a payout, oldest first. */
  journal(key: string): Promise<JournalEntry[]>;
  /**
   * Cancels a payout as soon as it is safe and resolves with it at rest: at once before its
   * Pi payment exists, by cancelling the Pi payment before a transaction is sent, or once
   * its envelope provably cannot land (if it lands, the payout completes instead).
   * @throws LifecycleError `CANCEL_TOO_LATE` once the user is paid
   */
  cancel(key: string, options?: CommandOptions): Promise<Payout>;
  /** Takes a failed payout up again from where it stopped. */
  retry(key: string, options?: CommandOptions): Promise<Payout>;
  /** Drives every unfinished payout on from its stored snapshot; with `wait`, until each rests. */
  resume(options?: { wait?: boolean }): Promise<Payout[]>;
  /** Resumes, after looking at Pi's incomplete payments: adopts ours, reports the others. */
  recover(options?: { adoptOrphans?: boolean; wait?: boolean }): Promise<RecoveryReport>;
  /**
   * The durable event feed: every saved step of every payout in the store, whoever drove it
   * (another worker, the command line), read by polling or by named durable consumers.
   */
  readonly events: PayoutEvents;
  /** Calls `listener` after every saved step of every payout this runtime drives (in-process, not durable). */
  subscribe(listener: (step: PayoutStep) => void): () => void;
  /**
   * Checks the setup in a few seconds, a verdict per line: Pi accepts the API key, Horizon
   * serves the network, the wallet exists and can pay, the store answers. Run it at start.
   */
  check(options?: SetupCheckOptions): Promise<SetupReport>;
  /** Payouts this runtime is driving now. */
  active(): string[];
  /**
   * Records now the telemetry that waits for its batch: spans ended and figures recorded up
   * to this moment. Telemetry is recorded in batches (at most 200 ms after the step, or once
   * 1,000 records wait) and by `close()`; call this where neither comes first: in a test
   * before reading an in-memory exporter, or before your SDK's `forceFlush()` when the
   * process may freeze (a serverless handler). Does nothing when telemetry is off.
   */
  flushTelemetry(): void;
  /**
   * Stops driving payouts. `graceful` (default) lets each finish its current step and
   * releases leases; `abandon` stops at once and releases nothing, as a crash would.
   */
  close(options?: { abandon?: boolean }): Promise<void>;
}
