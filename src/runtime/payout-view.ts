import type { Amount } from "../domain/amount.js";
import type { SerializedError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json.js";
import type { PaymentDTO } from "../domain/payment-dto.js";
import type { PayoutFailure, PayoutState } from "../machines/types.js";
import type { HookFailure, StoredPayout } from "../storage/types.js";

/** A payout as `pay()`, `get()` and `list()` return it. */
export interface Payout {
  /** Your idempotency key. */
  key: string;
  /** Main state: created, stored, submitted, txStored, completed, cancelled or failed. */
  state: PayoutState;
  /** Where exactly it is, e.g. `submitted.waiting`. */
  stateDetail: string;
  /**
   * True once it rests: nothing is left to do until a person acts (`completed`, `cancelled`,
   * `failed.resting`). Read `state` for the outcome: at rest is not the same as paid.
   */
  atRest: boolean;
  uid: string;
  amount: Amount;
  memo: string;
  metadata: JsonObject;
  /** Pi's payment identifier, once created. */
  paymentId: string | null;
  /** The transaction id (hash) of the current or landed transaction. */
  txid: string | null;
  /** The ledger it landed in. */
  ledger: number | null;
  /** The user's wallet, as Pi named it. */
  toAddress: string | null;
  /** The payment as Pi last returned it. */
  payment: PaymentDTO | null;
  /** Why it stopped, when `state` is `failed`. */
  failure: PayoutFailure | null;
  /** The last error met on the way (a retried one included). */
  lastError: SerializedError | null;
  /** A cancel was asked and waits for a safe point. */
  cancelRequested: boolean;
  /** Envelopes that provably never landed, replaced by a new one. */
  deadTransactions: Array<{ txid: string; reason: string }>;
  /**
   * While it waits for Pi's one-incomplete-payment slot: the payout holding the slot, its
   * state and its failure (a failed one keeps the slot while its Pi payment is open).
   */
  blockedBy: SlotBlocker | null;
  /**
   * The host's `onSettled` hook threw inside the save that would bring it to rest: that save
   * was rolled back and is tried again at `nextAttemptAt` (never skipped).
   */
  hookFailure: HookFailure | null;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** The payout holding the slot another one waits for. */
export interface SlotBlocker {
  key: string;
  state: PayoutState;
  stateDetail: string;
  failure: PayoutFailure | null;
}

/** The public view of a stored payout. */
export function toPayout(stored: StoredPayout): Payout {
  const context = stored.snapshot.context;
  return {
    key: stored.key,
    state: stored.state,
    stateDetail: stored.stateDetail,
    atRest: stored.atRest,
    uid: stored.intent.uid,
    amount: stored.intent.amount,
    memo: stored.intent.memo,
    metadata: stored.intent.metadata,
    paymentId: stored.paymentId,
    txid: stored.txid,
    ledger: context.ledger,
    toAddress: context.payment?.to_address ?? null,
    payment: context.payment,
    failure: context.failure,
    lastError: context.lastError,
    cancelRequested: context.cancelRequested,
    deadTransactions: context.deadTransactions,
    blockedBy: null,
    hookFailure: stored.hookFailure,
    version: stored.version,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}
