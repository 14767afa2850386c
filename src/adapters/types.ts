import type { Amount } from "../domain/amount.js";
import type { ResultCodes } from "../domain/errors.js";
import type { ValidPaymentArgs } from "../domain/payment-args.js";
import type { NetworkName, PaymentDTO, UserDTO } from "../domain/payment-dto.js";

/**
 * The Pi Platform API, server side (PI-PLATFORM.md §1).
 *
 * Replays are safe where Pi makes them so: `completePayment` resolves when Pi answers
 * `already_completed` for the same txid, `cancelPayment` when it answers
 * `cancelled_payment`. `createPayment` is never retried by the adapter: after an unknown
 * outcome, look the payment up in `incompleteServerPayments()` by its metadata.
 */
export interface PiPlatform {
  readonly name: string;
  /** Creates an A2U payment (never retried: look it up after an unknown outcome). */
  createPayment(args: ValidPaymentArgs): Promise<PaymentDTO>;
  /** The payment as Pi has it now. */
  getPayment(paymentId: string): Promise<PaymentDTO>;
  /** U2A only: A2U payments are approved when created. */
  approvePayment(paymentId: string): Promise<PaymentDTO>;
  /** Completes a payment with its txid; a replay that finds it completed with that txid succeeds. */
  completePayment(paymentId: string, txid: string): Promise<PaymentDTO>;
  /** Cancels a payment that has no transaction; a replay that finds it cancelled succeeds. */
  cancelPayment(paymentId: string): Promise<PaymentDTO>;
  /** The app's incomplete A2U payments. */
  incompleteServerPayments(): Promise<PaymentDTO[]>;
  /** The user behind a Pi Browser access token. */
  me(accessToken: string): Promise<UserDTO>;
  /** Releases what the adapter holds. */
  close(): Promise<void>;
}

/** What to pay on chain for one Pi payment. */
export interface PaymentTransactionRequest {
  paymentId: string;
  /** The recipient: the payment's `to_address`. */
  to: string;
  amount: Amount;
}

/** A signed A2U transaction, known in full before anything is sent. */
export interface SignedTransaction {
  /** The base64 XDR envelope: re-sending exactly these bytes is always safe. */
  envelope: string;
  /** The transaction hash, which is the payment's txid. */
  txid: string;
  /** The account whose sequence number the transaction uses (the app wallet, or a channel). */
  source: string;
  /** The sequence number it consumes, as a decimal string. */
  sequence: string;
  /** Upper time bound in unix seconds: after a ledger closes past it, it can never land. */
  maxTime: number;
}

/** How one submission of an envelope ended. */
export type SubmitOutcome =
  /** In a ledger and successful: the payment is made. */
  | { status: "applied"; txid: string; ledger: number }
  /**
   * Definitely not a payment from this submission: refused by Horizon, or in a ledger
   * but failed (the sequence is then used up). `inLedger` tells which.
   */
  | { status: "failed"; txid: string; resultCodes: ResultCodes; inLedger: boolean }
  /** No answer that says (504, dropped connection, 5xx): it may still land. */
  | { status: "unknown"; txid: string; reason: string };

/** A transaction found on chain. */
export interface ChainTransaction {
  txid: string;
  ledger: number;
  successful: boolean;
  /** Its text memo, if it has one. */
  memo: string | undefined;
  /** The account whose sequence number it used. */
  source: string;
  sequence: string;
  /** Operations of any kind in its envelope. */
  operationCount: number;
  /** The native payment operations in its envelope. */
  payments: Array<{ from: string; to: string; amount: Amount }>;
}

/** The payment a transaction must make to be this payment's (see {@link PiChain.findPaymentTransaction}). */
export interface ExpectedPayment {
  paymentId: string;
  /** The recipient Pi named for the payment (Pi chooses it; what we check is that it does not change). */
  to: string;
  amount: Amount;
  /**
   * When Pi created the payment (ISO 8601, Pi's `created_at`). No transaction of it can be
   * older, so a search of the wallet's history reads back to here (less an hour for clocks
   * that disagree); without it nor `requestedAt`, only the recent transactions.
   */
  createdAt?: string | undefined;
  /** When the caller sent the create request, ms on its own clock: a second lower bound. */
  requestedAt?: number | undefined;
}

/** A transaction carrying a payment's memo that is not the payment's: noted, never taken as it. */
export interface IgnoredTransaction {
  txid: string;
  reason: string;
}

/** What a search of the wallet's history for a payment's transaction found. */
export interface PaymentSearch {
  /** The payment's landed transaction, when one is ours in every respect. */
  found: ChainTransaction | undefined;
  /** Others with the payment's memo. */
  ignored: IgnoredTransaction[];
}

/** Conditions on preparing a payment. */
export interface PrepareOptions {
  /**
   * Build nothing before the chain's latest ledger closed after this time (unix seconds):
   * an envelope some other process signed before then may still land.
   */
  notBefore?: number;
}

/** A payment made ready to send: a new envelope, or the transaction that already paid it. */
export type PreparedPayment =
  | { status: "built"; transaction: SignedTransaction; ignored: IgnoredTransaction[] }
  | { status: "landed"; transaction: ChainTransaction; ignored: IgnoredTransaction[] };

/**
 * Why an envelope can or cannot still land (DESIGN P3). Absence counts only from a view of
 * Horizon at least as fresh as the ledger that makes the envelope dead; without that proof
 * the fate is `unknown`, which is handled as `pending`: resend the same envelope, look again.
 */
export type EnvelopeFate =
  | { status: "landed"; transaction: ChainTransaction }
  /** It cannot land any more: a new envelope may be built. `usedBy`: the transaction that used its sequence. */
  | {
      status: "dead";
      reason: "expired" | "sequence_used" | "failed_in_ledger";
      usedBy?: string | undefined;
    }
  | { status: "pending" }
  /** Nothing proves it either way (a view older than the evidence needs, an unidentified sequence). */
  | { status: "unknown"; reason: string };

/** The Pi blockchain through Horizon (PI-PLATFORM.md §2), for one app wallet. */
export interface PiChain {
  readonly name: string;
  readonly network: NetworkName;
  readonly horizonUrl: string;
  /** The app wallet's public address (never its seed). */
  readonly walletAddress: string;
  /** Seconds an envelope it builds stays valid after the chain's time. */
  readonly timeBoundSeconds: number;
  /**
   * Builds and signs the A2U transaction of a payment. Sends nothing but reads. For a
   * payment no envelope was ever signed for; otherwise use {@link PiChain.preparePayment}.
   */
  buildPayment(request: PaymentTransactionRequest): Promise<SignedTransaction>;
  /**
   * Looks on chain for the payment's landed transaction first, in a view at least as fresh
   * as the account read the new envelope is built from, and builds only if there is none:
   * then any earlier envelope of the payment from the wallet's sequence is landed (found)
   * or shares the new one's sequence number, so at most one of them can land.
   */
  preparePayment(expected: ExpectedPayment, options?: PrepareOptions): Promise<PreparedPayment>;
  /**
   * Says an envelope will not be sent from this process (any more): built but never saved,
   * or the saved one of a payout this process stops driving. Its source account's sequence
   * number is free for this process's next envelope at once.
   */
  giveBack(transaction: SignedTransaction): void;
  /** Sends an envelope once and classifies the answer. Never throws for a Horizon answer. */
  submit(transaction: SignedTransaction): Promise<SubmitOutcome>;
  /** Tells whether a signed envelope landed, can still land, or never will. */
  fate(transaction: SignedTransaction): Promise<EnvelopeFate>;
  /** A transaction by hash, or undefined if no ledger holds it. */
  getTransaction(txid: string): Promise<ChainTransaction | undefined>;
  /** The payment's landed transaction in the wallet's history, if one is ours in every respect. */
  findPaymentTransaction(expected: ExpectedPayment): Promise<PaymentSearch>;
  /** The latest closed ledger. */
  latestLedger(): Promise<{ sequence: number; closedAt: number }>;
  /** The app wallet's native balance as Horizon prints it ("12.5000000") and its sequence number. */
  account(): Promise<{ balance: string; sequence: string }>;
  /** Releases what the adapter holds. */
  close(): Promise<void>;
}
