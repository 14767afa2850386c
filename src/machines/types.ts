import type {
  EnvelopeFate,
  IgnoredTransaction,
  SignedTransaction,
  SubmitOutcome,
} from "../adapters/types.js";
import type { Amount } from "../domain/amount.js";
import type { SerializedError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json.js";
import type { NetworkName, PaymentDTO } from "../domain/payment-dto.js";

/** The lifecycle's main states: the contract with users and docs (DESIGN.md). */
export const PAYOUT_STATES = [
  "created",
  "stored",
  "submitted",
  "txStored",
  "completed",
  "cancelled",
  "failed",
] as const;

/** A payout's main state. */
export type PayoutState = (typeof PAYOUT_STATES)[number];

/** The main states a payout ends in: for good, or (`failed`) until a person acts. */
export const OUTCOME_STATES: readonly PayoutState[] = ["completed", "cancelled", "failed"];

/** What the caller asked to pay, as stored. */
export interface PayoutIntent {
  uid: string;
  amount: Amount;
  memo: string;
  metadata: JsonObject;
}

/** Retry timing, fixed when the payout is created so that a resumed payout keeps it. */
export interface RetryTiming {
  /** First backoff; doubles per attempt. */
  baseDelayMs: number;
  /** Longest backoff. */
  maxDelayMs: number;
  /** Times Pi may answer `not_verified` to complete before a person is asked to look. */
  maxNotVerified: number;
  /**
   * How long after a create request went out a payment from it may still appear on Pi (a
   * crash or timeout leaves the request in flight). A cancel concludes "no payment" only
   * after this.
   */
  createGraceMs: number;
  /**
   * Envelopes in a row that may die unlanded before the payout asks a person (something is
   * wrong with time bounds or the wallet's sequence). Each rebuild waits a growing backoff.
   */
  maxDeadEnvelopes: number;
  /**
   * How long after it was signed an envelope of any process of the fleet can still land:
   * twice the time bound, for clocks that disagree. @default 120000
   */
  envelopeLifetimeMs?: number;
}

/** Why a payout stopped for a person, and where a retry takes it up again. */
export interface PayoutFailure {
  /** Stable UPPER_SNAKE reason, e.g. `INSUFFICIENT_FUNDS`, `FOREIGN_ONGOING_PAYMENT`. */
  code: string;
  message: string;
  /** When it stopped (runtime clock, ms). */
  at: number;
  /** The main state a retry resumes from. */
  resumeFrom: "created" | "stored" | "submitted" | "txStored";
  /** True while a Pi payment of this payout may still be open (it then keeps its slot). */
  paymentOpen: boolean;
  error: SerializedError | undefined;
}

/** Everything the machine knows about one payout; persisted in its snapshot. */
export interface PayoutContext {
  key: string;
  intent: PayoutIntent;
  walletAddress: string;
  network: NetworkName;
  /** The one-incomplete-payment scope this payout queues in. */
  slotScope: string;
  timing: RetryTiming;
  paymentId: string | null;
  /** The payment as Pi last returned it. */
  payment: PaymentDTO | null;
  /** The current signed envelope: re-sent as is until it lands or provably cannot. */
  transaction: SignedTransaction | null;
  /** Envelopes that provably can never land, and why. */
  deadTransactions: Array<{ txid: string; reason: string }>;
  /** Envelopes that died in a row since the last retry. */
  deathsInARow: number;
  ledger: number | null;
  /** Attempts at the current step, for backoff. */
  attempt: number;
  /** Times create was attempted: after the first, look for our payment before creating. */
  createAttempts: number;
  /** When a create request last went out (runtime clock, ms), or null if none did. */
  createRequestedAt: number | null;
  /** Durable deadline of the current wait (runtime clock, ms). */
  retryAt: number | null;
  /** `not_verified` answers to complete so far. */
  notVerified: number;
  lastError: SerializedError | null;
  failure: PayoutFailure | null;
  /** Cancel was asked while an effect ran: acted on at the first safe point. */
  cancelRequested: boolean;
  /** Re-read the payment from Pi before signing (after a wait, a retry or a dead envelope). */
  recheckPayment: boolean;
  /** Retry was asked while the failed payout's Pi payment was being cancelled: acted on once it is. */
  retryRequested?: boolean;
  /** When it was adopted as an orphan (runtime clock, ms): see {@link BuildInput.notBefore}. */
  orphanSince?: number | null;
  /**
   * The W3C `traceparent` of the span the payout was taken in with (telemetry on): kept with
   * the payout so that whichever process drives it, after any crash, continues that trace.
   * The machine only carries it.
   */
  traceparent?: string;
}

/** What starts a payout machine. */
export interface PayoutInput {
  key: string;
  intent: PayoutIntent;
  walletAddress: string;
  network: NetworkName;
  slotScope: string;
  timing: RetryTiming;
  /** Adopting a Pi payment made elsewhere: look for it before ever creating one. */
  adopt?: boolean;
  /** The runtime's clock when the payout is created, ms (an orphan's adoption time). */
  at?: number;
  /** See {@link PayoutContext.traceparent}. */
  traceparent?: string | undefined;
}

/** Every output carries the runtime clock's reading: the machine never reads a clock itself. */
export type Stamped<T> = T & { at: number };

/** An effect's error as the machine receives it: serialised, stamped. */
export type EffectError = Stamped<SerializedError>;

export interface SlotInput {
  key: string;
  scope: string;
}
export interface CreateInput {
  key: string;
  intent: PayoutIntent;
  /** Look for an incomplete Pi payment of ours (by key in metadata) before creating. */
  lookFirst: boolean;
  /** Only look; never create (used when cancelling after an unknown create). */
  onlyFind: boolean;
}
export interface CreateOutput {
  payment: PaymentDTO | null;
  adopted: boolean;
  /** Stray payments of ended payouts that blocked the create and were cancelled first. */
  cancelledStrays?: string[];
}
export interface BuildInput {
  key: string;
  payment: PaymentDTO;
  intent: PayoutIntent;
  recheck: boolean;
  /** When the create request went out (runtime clock, ms): no transaction of it is older. */
  requestedAt: number | null;
  /**
   * An orphan (adopted from Pi with no record of ours) may have an envelope in flight from
   * the process that lost it: build only once the chain's time has passed this (unix s).
   */
  notBefore: number | null;
}
/** A landed transaction of the payment, found on chain before building: ours in every respect. */
export interface FoundTransaction {
  txid: string;
  ledger: number;
  source: string;
  sequence: string;
}

/** What building found: a new envelope to send, or the transaction that already paid the payment. */
export type BuildOutput = (
  | { status: "built"; transaction: SignedTransaction }
  | { status: "landed"; transaction: FoundTransaction }
) & {
  /** The payment, re-read from Pi when a recheck was asked. */
  payment: PaymentDTO;
  /** Transactions with the payment's memo that are not its own (noted in the journal). */
  ignored?: IgnoredTransaction[];
};
export interface SubmitInput {
  key: string;
  transaction: SignedTransaction;
}
export interface FateInput {
  key: string;
  transaction: SignedTransaction;
}
export interface CompleteInput {
  key: string;
  paymentId: string;
  txid: string;
}
export interface CancelInput {
  key: string;
  paymentId: string;
}
export interface WaitInput {
  until: number;
}

export type SubmitOutput = SubmitOutcome;
export type FateOutput = EnvelopeFate;
export interface PaymentOutput {
  payment: PaymentDTO;
}

/** Events people (through the runtime) send to a payout. */
export type PayoutCommand = { type: "CANCEL"; at: number } | { type: "RETRY"; at: number };
