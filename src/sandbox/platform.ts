import { isPlainObject } from "../domain/json.js";
import type { PaymentDTO } from "../domain/payment-dto.js";
import type { SandboxChain } from "./chain.js";
import type { LedgerTransaction } from "./chain-types.js";
import { parseCreateArgs } from "./payment-args.js";
import { PiFailure } from "./pi-failure.js";
import type { Random } from "./random.js";
import { verificationError } from "./verification.js";

/** A user the sandbox's Pi app knows. */
export interface SandboxUser {
  uid: string;
  username: string;
  /** The user's wallet, or undefined for a user who has none yet (`missing_wallet`). */
  address: string | undefined;
  /** The wallet's seed, so that tests can pay the app from it (U2A). */
  seed: string | undefined;
  /** A token for `GET /v2/me`. */
  accessToken: string;
  scopes: string[];
}

/** Settings of the sandbox's Pi Platform. */
export interface PlatformOptions {
  appWallet: string;
  network: string;
  horizonUrl: () => string;
  incompleteLimit: "app" | "user";
  /** How long after a transaction lands Pi links it to its payment, in ms; "never" to not link. */
  linkLagMs: number | "never";
  /** `too_many_cancelled_payments` once this many payments were cancelled. */
  maxCancelledPayments: number;
  /** `too_many_payments` once this many A2U payments were created. */
  maxPayments: number;
  /**
   * Whether a transaction whose source is another account (a channel) than the wallet paying
   * in its operation verifies. Pi's answer is not known; both can be modelled.
   */
  acceptChannelTransactions: boolean;
  /**
   * Whether Pi's chain watcher links a transaction with the payment's memo that does not pay
   * from the payment's `from_address` (a stranger's dust payment to the app wallet).
   */
  linkForeignTransactions: boolean;
}

/**
 * The sandbox's Pi Platform: its users and payments, and the server rules of
 * PI-PLATFORM.md §1: one incomplete A2U payment (per app or per user), verification of
 * the transaction on complete, no cancel once a transaction is linked, and linking of a
 * landed transaction by its memo after a lag.
 */
export class SandboxPlatform {
  readonly users = new Map<string, SandboxUser>();
  private readonly payments = new Map<string, PaymentDTO>();
  private readonly order: string[] = [];
  private cancelledCount = 0;
  private createdCount = 0;
  private readonly linkTimers = new Set<NodeJS.Timeout>();

  constructor(
    readonly options: PlatformOptions,
    private readonly chain: SandboxChain,
    private readonly random: Random,
  ) {
    chain.onLedgerClosed((_header, transactions) => this.watchChain(transactions));
  }

  /** Every payment, oldest first, as copies. */
  all(): PaymentDTO[] {
    return this.order.map((id) => structuredClone(this.payments.get(id)!));
  }

  /** The stored payment (not a copy). */
  find(id: string): PaymentDTO {
    const payment = this.payments.get(id);
    if (!payment) throw new PiFailure(404, "payment_not_found", `Payment ${id} was not found.`);
    return payment;
  }

  /** `POST /v2/payments`: creates an A2U payment, or refuses as Pi does. */
  createA2U(body: unknown, now: number): PaymentDTO {
    const args = parseCreateArgs(body);
    const user = this.users.get(args.uid);
    if (!user)
      throw new PiFailure(400, "user_not_found", `No user with uid ${args.uid} has used this app.`);
    if (!user.scopes.includes("payments")) {
      throw new PiFailure(
        400,
        "missing_scope",
        "The user has not granted the payments scope to this app.",
      );
    }
    if (user.address === undefined)
      throw new PiFailure(400, "missing_wallet", "The user has no wallet yet.");
    if (!/^G[A-Z2-7]{55}$/.test(user.address)) {
      throw new PiFailure(400, "invalid_address", "The user's wallet address is not valid.");
    }
    const blocking = this.blockingPayment(args.uid);
    if (blocking) {
      throw new PiFailure(
        400,
        "ongoing_payment_found",
        "You need to complete the ongoing payment first to create a new one.",
        {
          payment: structuredClone(blocking),
        },
      );
    }
    if (this.cancelledCount >= this.options.maxCancelledPayments) {
      throw new PiFailure(
        400,
        "too_many_cancelled_payments",
        "Your app has too many cancelled payments.",
      );
    }
    if (this.createdCount >= this.options.maxPayments) {
      throw new PiFailure(400, "too_many_payments", "Your app has created too many payments.");
    }
    this.createdCount += 1;
    return this.insert({
      user_uid: user.uid,
      amount: args.amount,
      memo: args.memo,
      metadata: args.metadata,
      from_address: this.options.appWallet,
      to_address: user.address,
      direction: "app_to_user",
      developer_approved: true,
      now,
    });
  }

  /** A user-to-app payment, as if the user had started it in the Pi Browser. */
  createU2A(
    uid: string,
    amount: number,
    memo: string,
    metadata: Record<string, unknown>,
    now: number,
  ): PaymentDTO {
    const user = this.users.get(uid);
    if (!user?.address)
      throw new PiFailure(400, "user_not_found", `No user with uid ${uid} and a wallet.`);
    return this.insert({
      user_uid: uid,
      amount,
      memo,
      metadata,
      from_address: user.address,
      to_address: this.options.appWallet,
      direction: "user_to_app",
      developer_approved: false,
      now,
    });
  }

  private insert(fields: {
    user_uid: string;
    amount: number;
    memo: string;
    metadata: Record<string, unknown>;
    from_address: string;
    to_address: string;
    direction: "app_to_user" | "user_to_app";
    developer_approved: boolean;
    now: number;
  }): PaymentDTO {
    let identifier = this.random.alphanumeric(28);
    while (this.payments.has(identifier)) identifier = this.random.alphanumeric(28);
    const payment: PaymentDTO = {
      identifier,
      user_uid: fields.user_uid,
      amount: fields.amount,
      memo: fields.memo,
      metadata: structuredClone(fields.metadata),
      from_address: fields.from_address,
      to_address: fields.to_address,
      direction: fields.direction,
      created_at: new Date(fields.now).toISOString(),
      network: this.options.network,
      status: {
        developer_approved: fields.developer_approved,
        transaction_verified: false,
        developer_completed: false,
        cancelled: false,
        user_cancelled: false,
      },
      transaction: null,
    };
    this.payments.set(identifier, payment);
    this.order.push(identifier);
    return payment;
  }

  /** The incomplete A2U payments of the app, oldest first. */
  incompleteServerPayments(): PaymentDTO[] {
    return this.order
      .map((id) => this.payments.get(id)!)
      .filter((p) => p.direction === "app_to_user" && isOpen(p));
  }

  private blockingPayment(uid: string): PaymentDTO | undefined {
    return this.incompleteServerPayments().find(
      (p) => this.options.incompleteLimit === "app" || p.user_uid === uid,
    );
  }

  /** `POST /v2/payments/{id}/approve`. */
  approve(id: string): PaymentDTO {
    const payment = this.find(id);
    if (payment.status.cancelled || payment.status.user_cancelled) {
      throw new PiFailure(400, "cancelled_payment", "The payment was cancelled.", {
        payment: structuredClone(payment),
      });
    }
    // A2U payments are approved at creation; approving again changes nothing.
    payment.status.developer_approved = true;
    return payment;
  }

  /** `POST /v2/payments/{id}/complete`: verifies the transaction on the ledger, links it, completes. */
  complete(id: string, body: unknown): PaymentDTO {
    const payment = this.find(id);
    const txid = isPlainObject(body) ? body.txid : undefined;
    if (typeof txid !== "string" || txid === "")
      throw new PiFailure(400, "missing_txid", "A txid is required.");
    if (payment.status.developer_completed) {
      throw new PiFailure(400, "already_completed", "The payment is already completed.", {
        payment: structuredClone(payment),
      });
    }
    if (payment.status.cancelled || payment.status.user_cancelled) {
      throw new PiFailure(400, "cancelled_payment", "The payment was cancelled.", {
        payment: structuredClone(payment),
      });
    }
    if (payment.transaction && payment.transaction.txid !== txid) {
      throw new PiFailure(400, "txid_mismatch", "The payment is linked with another transaction.", {
        payment: structuredClone(payment),
      });
    }
    const tx = this.chain.transaction(txid);
    if (!tx)
      throw new PiFailure(
        400,
        "not_verified",
        "The transaction was not found on the blockchain yet.",
      );
    const failure = this.verificationError(payment, tx);
    if (
      failure === "tx_memo_payment_identifier_mismatch" ||
      failure === "payment_already_linked_with_a_tx"
    ) {
      throw new PiFailure(
        400,
        "verification_failed",
        "The transaction does not belong to this payment.",
        {
          verification_error: failure,
        },
      );
    }
    this.link(payment, tx);
    if (failure) {
      throw new PiFailure(
        400,
        "verification_failed",
        "The transaction does not match the payment.",
        {
          verification_error: failure,
          payment: structuredClone(payment),
        },
      );
    }
    payment.status.developer_completed = true;
    return payment;
  }

  /** `POST /v2/payments/{id}/cancel`: refused once a transaction is linked. */
  cancel(id: string): PaymentDTO {
    const payment = this.find(id);
    if (payment.status.developer_completed) {
      throw new PiFailure(400, "already_completed", "The payment is already completed.", {
        payment: structuredClone(payment),
      });
    }
    if (payment.status.cancelled || payment.status.user_cancelled) {
      throw new PiFailure(400, "cancelled_payment", "The payment is already cancelled.", {
        payment: structuredClone(payment),
      });
    }
    if (payment.transaction) {
      throw new PiFailure(
        400,
        "payment_tx_present",
        "You cannot cancel this payment, because an associated blockchain transaction has been recorded.",
        { payment: structuredClone(payment) },
      );
    }
    if (payment.direction === "user_to_app" && payment.status.developer_approved) {
      // The sandbox's choice (Pi documents `forbidden` without saying when): once the app
      // approved a user's payment, the user may be signing it; the app may not cancel.
      throw new PiFailure(
        403,
        "forbidden",
        "An approved user-to-app payment cannot be cancelled by the app.",
      );
    }
    payment.status.cancelled = true;
    this.cancelledCount += 1;
    return payment;
  }

  /** Why a transaction cannot complete this payment, or undefined when it can. */
  private verificationError(payment: PaymentDTO, tx: LedgerTransaction): string | undefined {
    return verificationError(payment, tx, {
      linkedElsewhere: [...this.payments.values()].some(
        (p) => p !== payment && p.transaction?.txid === tx.hash,
      ),
      acceptChannelTransactions: this.options.acceptChannelTransactions,
    });
  }

  private link(payment: PaymentDTO, tx: LedgerTransaction): void {
    if (payment.transaction) return;
    const verified = this.verificationError(payment, tx) === undefined;
    payment.transaction = {
      txid: tx.hash,
      verified,
      _link: `${this.options.horizonUrl()}/transactions/${tx.hash}`,
    };
    payment.status.transaction_verified = verified;
  }

  /**
   * Pi watches the chain and links a landed transaction to its payment by memo, after a lag;
   * unless `linkForeignTransactions`, only one paying from the payment's `from_address`,
   * so that anyone's dust payment carrying a payment's memo cannot make it unverifiable.
   */
  private watchChain(transactions: LedgerTransaction[]): void {
    if (this.options.linkLagMs === "never") return;
    for (const tx of transactions) {
      if (!tx.successful || tx.memo === undefined) continue;
      const payment = this.payments.get(tx.memo);
      if (!payment) continue;
      const paysFromPayer = tx.payments.some((p) => p.from === payment.from_address);
      if (!paysFromPayer && !this.options.linkForeignTransactions) continue;
      const linkNow = () => {
        if (isOpen(payment) && !payment.transaction) this.link(payment, tx);
      };
      if (this.options.linkLagMs === 0) {
        linkNow();
      } else {
        const timer = setTimeout(() => {
          this.linkTimers.delete(timer);
          linkNow();
        }, this.options.linkLagMs);
        timer.unref();
        this.linkTimers.add(timer);
      }
    }
  }

  /** Replaces a stored payment's fields (sandbox administration, e.g. to stage a stuck payment). */
  update(id: string, patch: (payment: PaymentDTO) => void): PaymentDTO {
    const payment = this.find(id);
    patch(payment);
    return payment;
  }

  /** Stops the pending link timers. */
  stop(): void {
    for (const timer of this.linkTimers) clearTimeout(timer);
    this.linkTimers.clear();
  }
}

function isOpen(payment: PaymentDTO): boolean {
  return (
    !payment.status.developer_completed &&
    !payment.status.cancelled &&
    !payment.status.user_cancelled
  );
}
