import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { primaryResultCode } from "../adapters/map-horizon-error.js";
import { createPiChain } from "../adapters/pi-chain.js";
import { createPiPlatform, type RetryPolicy } from "../adapters/pi-platform.js";
import type { ExpectedPayment, PiChain, PiPlatform, SignedTransaction } from "../adapters/types.js";
import { parseAmount } from "../domain/amount.js";
import { assertPaymentMatches } from "../domain/check-payment.js";
import type { ChainResultCode } from "../domain/error-catalog.js";
import {
  ChainError,
  ConfigurationError,
  LifecycleError,
  PiPaymentsError,
  serializeError,
} from "../domain/errors.js";
import { parsePaymentId, parseTxid } from "../domain/ids.js";
import {
  type PaymentArgs,
  parsePaymentArgs,
  type ValidPaymentArgs,
} from "../domain/payment-args.js";
import {
  NETWORKS,
  type NetworkName,
  type PaymentDTO,
  type UserDTO,
} from "../domain/payment-dto.js";
import { parseWith } from "../domain/validation.js";
import { needsFateCheck } from "../machines/submit-outcomes.js";

/** Options of {@link PiNetwork}. */
export interface PiNetworkOptions {
  /** The app's server API key. */
  apiKey: string;
  /** The app wallet's secret seed (S…). */
  walletSeed: string;
  /** "Pi Network" (Mainnet) or "Pi Testnet". */
  network: NetworkName;
  /** @default "https://api.minepi.com" */
  apiUrl?: string;
  /** @default Pi's Horizon for `network` */
  horizonUrl?: string;
  /** Retries of Pi reads and idempotent writes. */
  retry?: RetryPolicy | false;
  /** Per-request timeout for Pi calls in ms. @default 20000 */
  timeoutMs?: number;
  /** See {@link PiChainOptions.timeBoundSeconds}. @default 60 */
  timeBoundSeconds?: number;
  /** First wait before re-sending an envelope whose outcome is unknown; doubles up to 10 s. @default 1000 */
  resubmitDelayMs?: number;
  /** How many times `submitPayment` may build a new envelope after one provably died. @default 3 */
  maxRebuilds?: number;
}

const optionsSchema = z.strictObject({
  apiKey: z.string().trim().min(1, "must be your app's server API key"),
  walletSeed: z.string({ error: "must be the app wallet's secret seed" }),
  network: z.enum(NETWORKS, {
    error: () => `must be one of ${NETWORKS.map((n) => `"${n}"`).join(", ")}`,
  }),
  apiUrl: z.url({ protocol: /^https?$/ }).optional(),
  horizonUrl: z.url({ protocol: /^https?$/ }).optional(),
  retry: z.unknown().optional(),
  timeoutMs: z.number().int().positive().optional(),
  timeBoundSeconds: z.number().int().positive().optional(),
  resubmitDelayMs: z.number().int().min(0).default(1000),
  maxRebuilds: z.number().int().min(0).default(3),
});

interface Clients {
  platform: PiPlatform;
  chain: PiChain;
  resubmitDelayMs: number;
  maxRebuilds: number;
}

/**
 * The server-side calls of Pi's SDKs (create, submit, complete, get, cancel, incomplete
 * payments), without their defects: concurrent calls for different payments are safe,
 * what Pi returns is checked before signing, unknown submission outcomes are resolved by
 * re-sending the same envelope, and every failure is a typed error.
 *
 * It persists nothing: a crash between `submitPayment` and storing its txid is yours to
 * handle. `createPayouts()` is the same flow made durable.
 *
 * @example
 * const pi = new PiNetwork({ apiKey, walletSeed, network: "Pi Testnet" });
 * const paymentId = await pi.createPayment({ amount: "1.5", memo: "Refund", metadata: { orderId: 42 }, uid });
 * const txid = await pi.submitPayment(paymentId);
 * const payment = await pi.completePayment(paymentId, txid);
 */
export class PiNetwork {
  #clients: Clients | undefined;
  /** What this instance asked for, by payment id: checked again before signing. */
  readonly #asked = new Map<
    string,
    { args: ValidPaymentArgs; toAddress: string; requestedAt: number }
  >();
  /** The envelope this instance last sent for a payment, until it completes or provably died. */
  readonly #envelopes = new Map<string, SignedTransaction>();
  /** Submissions in progress, by payment id. */
  readonly #submitting = new Map<string, Promise<string>>();

  constructor(options?: PiNetworkOptions) {
    if (options !== undefined) this.#clients = PiNetwork.#connect(options);
  }

  /** For code ported from pi-python: `pi.initialize(apiKey, walletSeed, network)`. */
  initialize(
    apiKey: string,
    walletSeed: string,
    network: NetworkName,
    options: Omit<PiNetworkOptions, "apiKey" | "walletSeed" | "network"> = {},
  ): void {
    this.#clients = PiNetwork.#connect({ ...options, apiKey, walletSeed, network });
  }

  static #connect(options: PiNetworkOptions): Clients {
    const settings = parseWith(optionsSchema, options, "PiNetwork options", "INVALID_OPTIONS");
    const platform = createPiPlatform({
      apiKey: settings.apiKey,
      ...(settings.apiUrl ? { baseUrl: settings.apiUrl } : {}),
      ...(settings.timeoutMs ? { timeoutMs: settings.timeoutMs } : {}),
      ...(settings.retry !== undefined ? { retry: settings.retry as RetryPolicy | false } : {}),
    });
    const chain = createPiChain({
      network: settings.network,
      walletSeed: settings.walletSeed,
      ...(settings.horizonUrl ? { horizonUrl: settings.horizonUrl } : {}),
      ...(settings.timeBoundSeconds ? { timeBoundSeconds: settings.timeBoundSeconds } : {}),
    });
    return {
      platform,
      chain,
      resubmitDelayMs: settings.resubmitDelayMs,
      maxRebuilds: settings.maxRebuilds,
    };
  }

  get #ready(): Clients {
    if (!this.#clients) {
      throw new ConfigurationError(
        "PiNetwork is not initialized: pass options to the constructor or call initialize(apiKey, walletSeed, network).",
        "NOT_INITIALIZED",
      );
    }
    return this.#clients;
  }

  /** The app wallet's public address. */
  get walletAddress(): string {
    return this.#ready.chain.walletAddress;
  }

  /**
   * Creates an A2U payment and returns its id. Store the id before doing anything else.
   * @throws ValidationError for bad arguments (nothing is sent)
   * @throws OngoingPaymentError when another payment of the app is incomplete; it carries that payment
   */
  async createPayment(args: PaymentArgs): Promise<string> {
    const valid = parsePaymentArgs(args);
    const { platform } = this.#ready;
    const requestedAt = Date.now();
    const payment = await platform.createPayment(valid);
    this.#asked.set(payment.identifier, {
      args: valid,
      toAddress: payment.to_address,
      requestedAt,
    });
    return payment.identifier;
  }

  /**
   * Builds, signs and submits the payment's transaction; returns its txid. Store the txid
   * before completing. The payment is checked against what was asked first (amount, user,
   * recipient, direction, wallet, network, not cancelled, no transaction yet).
   *
   * Safe to call again after any error: a payment already paid returns its transaction
   * (found on chain, in a view fresh enough to prove it, before anything is built), and an
   * envelope this instance sent whose fate is unknown is resent, never replaced, until it
   * lands or provably cannot. Concurrent calls for one payment share one submission.
   * @throws PaymentMismatchError when the payment must not be signed for
   * @throws ChainError when the chain refused the transaction (e.g. `OP_UNDERFUNDED`); with
   *   `outcomeUnknown`, an envelope (`txid`) was sent and may still land: call again
   */
  async submitPayment(paymentId: string): Promise<string> {
    const id = parsePaymentId(paymentId);
    const running = this.#submitting.get(id);
    if (running) return running;
    const submission = this.#submit(id).finally(() => this.#submitting.delete(id));
    this.#submitting.set(id, submission);
    return submission;
  }

  async #submit(id: string): Promise<string> {
    const { platform, chain, resubmitDelayMs, maxRebuilds } = this.#ready;
    const payment = await platform.getPayment(id);
    const asked = this.#asked.get(id);
    const expected: ExpectedPayment = {
      paymentId: id,
      to: asked?.toAddress ?? payment.to_address,
      amount: asked?.args.amount ?? parseAmount(payment.amount),
      createdAt: payment.created_at,
      requestedAt: asked?.requestedAt,
    };
    if (payment.transaction) {
      // Pi linked a transaction: ours in every respect means the payment is paid.
      const { found } = await chain.findPaymentTransaction(expected);
      if (found?.txid === payment.transaction.txid) return found.txid;
    }
    assertPaymentMatches(payment, {
      walletAddress: chain.walletAddress,
      network: chain.network,
      amount: asked?.args.amount,
      uid: asked?.args.uid,
      toAddress: asked?.toAddress,
    });

    let tx = this.#envelopes.get(id);
    if (!tx) {
      const prepared = await chain.preparePayment(expected);
      if (prepared.status === "landed") return prepared.transaction.txid;
      tx = prepared.transaction;
      this.#envelopes.set(id, tx);
    }
    let rebuilds = 0;
    let waits = 0;
    for (;;) {
      const sent: SignedTransaction = tx;
      const outcome = await chain.submit(sent).catch((error: unknown) => {
        throw outcomeUnknown(id, sent, error);
      });
      if (outcome.status === "applied") return outcome.txid;
      if (outcome.status === "failed" && !needsFateCheck(outcome.resultCodes)) {
        // In a ledger, failed: its sequence is used, it can never land; a new call builds anew.
        if (outcome.inLedger) this.#envelopes.delete(id);
        const code = primaryResultCode(outcome.resultCodes);
        throw new ChainError(
          `The chain refused the transaction of payment ${id}: ${code}.${code === "op_underfunded" || code === "tx_insufficient_balance" ? " The app wallet lacks funds." : ""}`,
          code.toUpperCase() as ChainResultCode,
          { resultCodes: outcome.resultCodes, txid: outcome.txid },
        );
      }
      // Unknown, or refused in a way that may hide a landed transaction: the envelope's
      // fate decides. Only a provably dead envelope may be replaced (DESIGN P3).
      const fate = await chain.fate(sent).catch((error: unknown) => {
        throw outcomeUnknown(id, sent, error);
      });
      if (fate.status === "landed") return fate.transaction.txid;
      if (fate.status === "dead") {
        this.#envelopes.delete(id);
        if (rebuilds >= maxRebuilds) {
          throw new ChainError(
            `Payment ${id}: ${rebuilds + 1} transactions in a row could not land (last: ${fate.reason}). Nothing was paid; try again later.`,
            "SUBMISSION_ABANDONED",
            { txid: sent.txid, retryable: true },
          );
        }
        rebuilds += 1;
        const prepared = await chain.preparePayment(expected);
        if (prepared.status === "landed") return prepared.transaction.txid;
        tx = prepared.transaction;
        this.#envelopes.set(id, tx);
        continue;
      }
      await sleep(Math.min(10_000, resubmitDelayMs * 2 ** Math.min(waits, 10)));
      waits += 1;
    }
  }

  /**
   * Completes the payment with its txid. Repeating it after a lost answer is safe.
   * @throws PiApiError e.g. `PI_VERIFICATION_FAILED`, `PI_CANCELLED_PAYMENT`
   */
  async completePayment(paymentId: string, txid: string): Promise<PaymentDTO> {
    const id = parsePaymentId(paymentId);
    const hash = parseTxid(txid);
    const payment = await this.#ready.platform.completePayment(id, hash);
    this.#asked.delete(id);
    this.#envelopes.delete(id);
    return payment;
  }

  /** The payment as Pi has it now. */
  async getPayment(paymentId: string): Promise<PaymentDTO> {
    return this.#ready.platform.getPayment(parsePaymentId(paymentId));
  }

  /**
   * Cancels a payment that has no transaction. Repeating it is safe. Refused while an
   * envelope this instance sent for it may still land: the user could be paid for a
   * cancelled payment.
   * @throws LifecycleError `CANCEL_TOO_LATE` when that envelope landed, `CANCEL_UNSAFE` while it may
   * @throws PiApiError `PI_PAYMENT_TX_PRESENT` once a transaction is linked
   */
  async cancelPayment(paymentId: string): Promise<PaymentDTO> {
    const id = parsePaymentId(paymentId);
    const { platform, chain } = this.#ready;
    const sent = this.#envelopes.get(id);
    if (sent) {
      const fate = await chain.fate(sent);
      if (fate.status === "landed") {
        throw new LifecycleError(
          `Payment ${id} cannot be cancelled: its transaction ${fate.transaction.txid} landed, the user is paid. Complete it instead.`,
          { code: "CANCEL_TOO_LATE" },
        );
      }
      if (fate.status !== "dead") {
        throw new LifecycleError(
          `Payment ${id} cannot be cancelled yet: its transaction ${sent.txid} may still land (until ${new Date(sent.maxTime * 1000).toISOString()}). Call submitPayment to see it through, or cancel after that time.`,
          { code: "CANCEL_UNSAFE", retryable: true },
        );
      }
    }
    const payment = await platform.cancelPayment(id);
    this.#asked.delete(id);
    this.#envelopes.delete(id);
    return payment;
  }

  /** The app's incomplete A2U payments (Pi documents 0 or 1). */
  async getIncompleteServerPayments(): Promise<PaymentDTO[]> {
    return this.#ready.platform.incompleteServerPayments();
  }

  /** Approves a user-to-app payment (A2U payments need no approval). */
  async approvePayment(paymentId: string): Promise<PaymentDTO> {
    return this.#ready.platform.approvePayment(parsePaymentId(paymentId));
  }

  /** The user behind an access token from the Pi SDK in the browser. */
  async me(accessToken: string): Promise<UserDTO> {
    return this.#ready.platform.me(accessToken);
  }
}

/** A failure after `sent` went out: nobody knows yet whether it landed, and calling again is safe. */
function outcomeUnknown(paymentId: string, sent: SignedTransaction, error: unknown): ChainError {
  const cause = serializeError(error);
  return new ChainError(
    `Payment ${paymentId}: transaction ${sent.txid} was sent and may still land, and nothing could tell (${cause.message}). Calling submitPayment again is safe: it resends that transaction or finds it on chain.`,
    error instanceof PiPaymentsError ? error.code : "HORIZON_UNREACHABLE",
    { txid: sent.txid, retryable: true, outcomeUnknown: true, cause: error },
  );
}
