import { createHash } from "node:crypto";
import {
  FeeBumpTransaction,
  Keypair,
  type Operation,
  type Transaction,
  TransactionBuilder,
} from "@stellar/stellar-sdk";
import { amountToStroops, parseAmount } from "../domain/amount.js";
import { resultXdr, type TxResultCodes } from "./result-codes.js";

/** How the sandbox's chain tells time. */
export type ChainClockMode = "wall" | "simulated";

/** Settings of the sandbox chain. */
export interface ChainOptions {
  passphrase: string;
  clock: ChainClockMode;
  /** Chain seconds that pass per ledger under the simulated clock. */
  ledgerSeconds: number;
  baseFee: bigint;
  baseReserve: bigint;
  oneTransactionPerAccountPerLedger: boolean;
  /** Wall-clock start, in ms. */
  startMs: number;
}

/** An account on the sandbox chain. */
export interface ChainAccount {
  id: string;
  balance: bigint;
  sequence: bigint;
  lastModifiedLedger: number;
}

/** One payment operation as it was applied. */
export interface AppliedPayment {
  from: string;
  to: string;
  /** Stroops. */
  amount: bigint;
}

/** A transaction that made it into a ledger (successful or failed, as on Stellar). */
export interface LedgerTransaction {
  hash: string;
  ledger: number;
  /** Position in the chain's history; Horizon's paging token. */
  order: number;
  closedAt: number;
  sourceAccount: string;
  sourceSequence: bigint;
  feeAccount: string;
  feeCharged: bigint;
  maxFee: bigint;
  successful: boolean;
  memoType: string;
  memo: string | undefined;
  envelopeXdr: string;
  resultXdr: string;
  resultCodes: TxResultCodes;
  operationCount: number;
  payments: AppliedPayment[];
  signatures: string[];
  minTime: number;
  maxTime: number;
  /** Every account the transaction touched, for `GET /accounts/{id}/transactions`. */
  accounts: string[];
}

/** A closed ledger. */
export interface LedgerHeader {
  sequence: number;
  hash: string;
  prevHash: string;
  /** Close time in unix seconds. */
  closedAt: number;
  successfulTransactionCount: number;
  failedTransactionCount: number;
  operationCount: number;
}

/** What a submission turned into. */
export type SubmitOutcome =
  | { kind: "malformed"; detail: string }
  | { kind: "rejected"; hash: string; codes: TxResultCodes; resultXdr: string }
  | { kind: "included"; transaction: LedgerTransaction }
  | { kind: "pending"; hash: string; result: Promise<SubmitResult>; fresh: boolean };

/** How a pending transaction ended: in a ledger, or dropped from the queue. */
export type SubmitResult =
  | { kind: "included"; transaction: LedgerTransaction }
  | { kind: "rejected"; hash: string; codes: TxResultCodes; resultXdr: string };

interface PendingTransaction {
  hash: string;
  tx: Transaction;
  envelopeXdr: string;
  resolve: (result: SubmitResult) => void;
  result: Promise<SubmitResult>;
}

type Listener = (header: LedgerHeader, transactions: LedgerTransaction[]) => void;

/**
 * The sandbox's Pi blockchain: accounts, a queue of pending transactions, and ledgers that
 * apply them when they close. It validates envelopes as stellar-core does, in the same
 * order: decoding, hash already known, source account, fee, time bounds, signatures,
 * sequence number, fee balance; and when the ledger closes: time bounds and sequence
 * again, the fee charged and the sequence consumed even when an operation then fails.
 */
export class SandboxChain {
  readonly options: ChainOptions;
  readonly accounts = new Map<string, ChainAccount>();
  readonly ledgers: LedgerHeader[] = [];
  private readonly byHash = new Map<string, LedgerTransaction>();
  private readonly history: LedgerTransaction[] = [];
  private pending: PendingTransaction[] = [];
  private readonly listeners: Listener[] = [];

  constructor(options: ChainOptions) {
    this.options = options;
    const genesis = Math.floor(options.startMs / 1000);
    this.ledgers.push({
      sequence: 1,
      hash: sha256Hex("genesis"),
      prevHash: "0".repeat(64),
      closedAt: genesis,
      successfulTransactionCount: 0,
      failedTransactionCount: 0,
      operationCount: 0,
    });
  }

  /** The latest closed ledger. */
  get latest(): LedgerHeader {
    return this.ledgers[this.ledgers.length - 1]!;
  }

  /** The chain's current time in ms: the wall clock, or the last close under the simulated clock. */
  now(): number {
    return this.options.clock === "wall" ? Date.now() : this.latest.closedAt * 1000;
  }

  /** The close time the next ledger will have, in unix seconds. */
  nextCloseTime(): number {
    if (this.options.clock === "simulated")
      return this.latest.closedAt + this.options.ledgerSeconds;
    return Math.max(this.latest.closedAt + 1, Math.floor(Date.now() / 1000));
  }

  /** Calls `listener` after every ledger close with the transactions it applied. */
  onLedgerClosed(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Creates (funds) an account, as a create_account operation would. */
  createAccount(id: string, balance: bigint): ChainAccount {
    const existing = this.accounts.get(id);
    if (existing) return existing;
    const account: ChainAccount = {
      id,
      balance,
      // stellar-core starts a new account's sequence at (ledger << 32).
      sequence: BigInt(this.latest.sequence) << 32n,
      lastModifiedLedger: this.latest.sequence,
    };
    this.accounts.set(id, account);
    return account;
  }

  /** The smallest balance an account must keep (two base reserves, no sub-entries here). */
  minimumBalance(): bigint {
    return 2n * this.options.baseReserve;
  }

  /** A transaction in the ledger by hash. */
  transaction(hash: string): LedgerTransaction | undefined {
    return this.byHash.get(hash);
  }

  /** Every transaction in the ledger, oldest first. */
  transactions(): readonly LedgerTransaction[] {
    return this.history;
  }

  /** True when a transaction with this hash waits in the queue. */
  isPending(hash: string): boolean {
    return this.pending.some((p) => p.hash === hash);
  }

  /** Number of transactions waiting in the queue. */
  pendingCount(): number {
    return this.pending.length;
  }

  /** Takes a base64 envelope as `POST /transactions` does. */
  submit(envelopeXdr: string): SubmitOutcome {
    let tx: Transaction;
    try {
      const decoded = TransactionBuilder.fromXDR(envelopeXdr, this.options.passphrase);
      if (decoded instanceof FeeBumpTransaction) {
        return {
          kind: "malformed",
          detail: "Fee-bump transactions are not supported by the sandbox.",
        };
      }
      tx = decoded;
    } catch (error) {
      return {
        kind: "malformed",
        detail: `The envelope could not be decoded: ${(error as Error).message}`,
      };
    }
    const hash = tx.hash().toString("hex");
    const known = this.byHash.get(hash);
    if (known) return { kind: "included", transaction: known };
    const waiting = this.pending.find((p) => p.hash === hash);
    if (waiting) return { kind: "pending", hash, result: waiting.result, fresh: false };

    const refusal = this.checkSubmission(tx);
    if (refusal) return this.rejection(hash, refusal);

    let resolve!: (result: SubmitResult) => void;
    const result = new Promise<SubmitResult>((r) => {
      resolve = r;
    });
    this.pending.push({ hash, tx, envelopeXdr, resolve, result });
    return { kind: "pending", hash, result, fresh: true };
  }

  private rejection(hash: string, codes: TxResultCodes): SubmitOutcome & { kind: "rejected" } {
    return { kind: "rejected", hash, codes, resultXdr: resultXdr(0n, codes) };
  }

  private checkSubmission(tx: Transaction): TxResultCodes | undefined {
    const source = this.accounts.get(tx.source);
    if (!source) return { transaction: "tx_no_source_account" };
    if (tx.operations.length === 0) return { transaction: "tx_missing_operation" };
    if (BigInt(tx.fee) < this.options.baseFee * BigInt(tx.operations.length)) {
      return { transaction: "tx_insufficient_fee" };
    }
    const timing = this.checkTimeBounds(tx, this.nextCloseTime());
    if (timing) return timing;
    if (!this.isProperlySigned(tx)) return { transaction: "tx_bad_auth" };
    const queued = this.pending.filter((p) => p.tx.source === tx.source).length;
    if (BigInt(tx.sequence) !== source.sequence + 1n + BigInt(queued))
      return { transaction: "tx_bad_seq" };
    if (source.balance - BigInt(tx.fee) < this.minimumBalance()) {
      return { transaction: "tx_insufficient_balance" };
    }
    const malformed = tx.operations.map((op) =>
      this.isWellFormed(op) ? "op_success" : "op_malformed",
    );
    if (malformed.includes("op_malformed"))
      return { transaction: "tx_failed", operations: malformed };
    return undefined;
  }

  private checkTimeBounds(tx: Transaction, closeTime: number): TxResultCodes | undefined {
    const minTime = Number(tx.timeBounds?.minTime ?? 0);
    const maxTime = Number(tx.timeBounds?.maxTime ?? 0);
    if (minTime > closeTime) return { transaction: "tx_too_early" };
    if (maxTime !== 0 && maxTime < closeTime) return { transaction: "tx_too_late" };
    return undefined;
  }

  private isWellFormed(op: Operation): boolean {
    if (op.type !== "payment") return false;
    if (!op.asset.isNative()) return false;
    try {
      return amountToStroops(parseAmount(op.amount)) > 0n;
    } catch {
      return false;
    }
  }

  /** Every signer the transaction needs (its source and each operation's source) signed it. */
  private isProperlySigned(tx: Transaction): boolean {
    const required = new Set([tx.source, ...tx.operations.map((op) => op.source ?? tx.source)]);
    const hash = tx.hash();
    const used = new Set<number>();
    for (const signer of required) {
      const keypair = Keypair.fromPublicKey(signer);
      const hint = keypair.signatureHint();
      const index = tx.signatures.findIndex(
        (sig, i) =>
          !used.has(i) && sig.hint().equals(hint) && keypair.verify(hash, sig.signature()),
      );
      if (index < 0) return false;
      used.add(index);
    }
    return used.size === tx.signatures.length;
  }

  /**
   * Closes a ledger: applies what is queued (one transaction per source account when
   * that rule is on), then tells the listeners and the waiting submitters.
   */
  closeLedger(): LedgerHeader {
    const closedAt = this.nextCloseTime();
    const sequence = this.latest.sequence + 1;
    const applied: LedgerTransaction[] = [];
    const settled: Array<[PendingTransaction, SubmitResult]> = [];
    const keep: PendingTransaction[] = [];
    const sourcesThisLedger = new Set<string>();

    for (const item of this.pending) {
      if (this.options.oneTransactionPerAccountPerLedger && sourcesThisLedger.has(item.tx.source)) {
        keep.push(item);
        continue;
      }
      const dropped = this.checkTimeBounds(item.tx, closedAt) ?? this.checkSequence(item.tx);
      if (dropped) {
        // Dropped from the queue: never in a ledger, no fee, sequence not consumed.
        settled.push([item, this.rejection(item.hash, dropped)]);
        continue;
      }
      sourcesThisLedger.add(item.tx.source);
      const transaction = this.apply(item, sequence, closedAt);
      applied.push(transaction);
      settled.push([item, { kind: "included", transaction }]);
    }
    this.pending = keep;

    const header: LedgerHeader = {
      sequence,
      hash: sha256Hex(`${this.latest.hash}:${sequence}:${applied.map((t) => t.hash).join(",")}`),
      prevHash: this.latest.hash,
      closedAt,
      successfulTransactionCount: applied.filter((t) => t.successful).length,
      failedTransactionCount: applied.filter((t) => !t.successful).length,
      operationCount: applied.reduce((n, t) => n + t.operationCount, 0),
    };
    this.ledgers.push(header);
    for (const listener of this.listeners) listener(header, applied);
    for (const [item, result] of settled) item.resolve(result);
    return header;
  }

  private checkSequence(tx: Transaction): TxResultCodes | undefined {
    const source = this.accounts.get(tx.source);
    if (!source) return { transaction: "tx_no_source_account" };
    return BigInt(tx.sequence) === source.sequence + 1n ? undefined : { transaction: "tx_bad_seq" };
  }

  private apply(item: PendingTransaction, ledger: number, closedAt: number): LedgerTransaction {
    const { tx } = item;
    const source = this.accounts.get(tx.source)!;
    const fee = this.options.baseFee * BigInt(tx.operations.length);
    source.balance -= fee;
    source.sequence = BigInt(tx.sequence);
    source.lastModifiedLedger = ledger;

    // Operations apply atomically: on the first failure none of their effects remain.
    const balances = new Map<string, bigint>();
    const balanceOf = (id: string) => balances.get(id) ?? this.accounts.get(id)!.balance;
    const operationCodes: string[] = [];
    const payments: AppliedPayment[] = [];
    let failed = false;
    for (const op of tx.operations) {
      if (op.type !== "payment") {
        operationCodes.push("op_malformed");
        failed = true;
        continue;
      }
      const from = op.source ?? tx.source;
      const amount = amountToStroops(parseAmount(op.amount));
      if (!this.accounts.has(from)) {
        operationCodes.push("op_no_source_account");
        failed = true;
      } else if (!this.accounts.has(op.destination)) {
        operationCodes.push("op_no_destination");
        failed = true;
      } else if (balanceOf(from) - amount < this.minimumBalance()) {
        operationCodes.push("op_underfunded");
        failed = true;
      } else {
        balances.set(from, balanceOf(from) - amount);
        balances.set(op.destination, balanceOf(op.destination) + amount);
        payments.push({ from, to: op.destination, amount });
        operationCodes.push("op_success");
      }
    }
    if (!failed) {
      for (const [id, balance] of balances) {
        const account = this.accounts.get(id)!;
        account.balance = balance;
        account.lastModifiedLedger = ledger;
      }
    }
    const codes: TxResultCodes = {
      transaction: failed ? "tx_failed" : "tx_success",
      operations: operationCodes,
    };
    const memoValue = tx.memo.value;
    const transaction: LedgerTransaction = {
      hash: item.hash,
      ledger,
      order: this.history.length + 1,
      closedAt,
      sourceAccount: tx.source,
      sourceSequence: BigInt(tx.sequence),
      feeAccount: tx.source,
      feeCharged: fee,
      maxFee: BigInt(tx.fee),
      successful: !failed,
      memoType: tx.memo.type,
      memo: memoValue === null || memoValue === undefined ? undefined : memoValue.toString(),
      envelopeXdr: item.envelopeXdr,
      resultXdr: resultXdr(fee, codes),
      resultCodes: codes,
      operationCount: tx.operations.length,
      payments: failed ? [] : payments,
      signatures: tx.signatures.map((s) => s.signature().toString("base64")),
      minTime: Number(tx.timeBounds?.minTime ?? 0),
      maxTime: Number(tx.timeBounds?.maxTime ?? 0),
      accounts: [
        ...new Set([
          tx.source,
          ...tx.operations.flatMap((op) =>
            op.type === "payment"
              ? [op.source ?? tx.source, op.destination]
              : [op.source ?? tx.source],
          ),
        ]),
      ],
    };
    this.byHash.set(item.hash, transaction);
    this.history.push(transaction);
    return transaction;
  }

  /** Settles every waiting submitter as dropped (used when the sandbox shuts down). */
  dropPending(): void {
    for (const item of this.pending)
      item.resolve(this.rejection(item.hash, { transaction: "tx_internal_error" }));
    this.pending = [];
  }
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
