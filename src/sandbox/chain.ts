import { createHash } from "node:crypto";
import { FeeBumpTransaction, type Transaction, TransactionBuilder } from "@stellar/stellar-sdk";
import { amountToStroops, parseAmount } from "../domain/amount.js";
import { AccountHistory } from "./account-history.js";
import type {
  AppliedPayment,
  ChainAccount,
  ChainOptions,
  ChainSubmission,
  LedgerHeader,
  LedgerTransaction,
  SubmitResult,
} from "./chain-types.js";
import { checkTimeBounds, isProperlySigned, isWellFormed } from "./envelope-checks.js";
import { resultXdr, type TxResultCodes } from "./result-codes.js";

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
  private readonly applied: LedgerTransaction[] = [];
  private pending: PendingTransaction[] = [];
  private readonly listeners: Listener[] = [];
  private readonly history = new AccountHistory();

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

  /**
   * The chain's current time in ms: the wall clock, or the last close under the simulated
   * clock. On the wall clock each close advances at least 1 s, so fast closes can run ahead
   * of real time; the time is then the last close, so that a client deriving its time
   * bounds from the `Date` header is never behind the chain.
   */
  now(): number {
    const closed = this.latest.closedAt * 1000;
    return this.options.clock === "wall" ? Math.max(Date.now(), closed) : closed;
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

  /** Creates (funds) an account, as a create_account operation would; an existing one is left as is. */
  createAccount(
    id: string,
    balance: bigint,
    options: { data?: Record<string, string> } = {},
  ): ChainAccount {
    const existing = this.accounts.get(id);
    if (existing) return existing;
    const account: ChainAccount = {
      id,
      balance,
      // stellar-core starts a new account's sequence at (ledger << 32).
      sequence: BigInt(this.latest.sequence) << 32n,
      lastModifiedLedger: this.latest.sequence,
      data: { ...options.data },
    };
    this.accounts.set(id, account);
    this.history.record(account, this.latest.sequence);
    return account;
  }

  /** Adds stroops to an account, creating it if missing, as a payment from a faucet would. */
  fund(id: string, amount: bigint): ChainAccount {
    const existing = this.accounts.get(id);
    if (!existing) return this.createAccount(id, amount);
    return this.setBalance(id, existing.balance + amount);
  }

  /** Sets an account's balance in stroops, creating the account if missing. */
  setBalance(id: string, balance: bigint): ChainAccount {
    const account = this.accounts.get(id) ?? this.createAccount(id, balance);
    account.balance = balance;
    account.lastModifiedLedger = this.latest.sequence;
    this.history.record(account, this.latest.sequence);
    return account;
  }

  /** An account as it was at the end of `ledger` (a lagging Horizon's view), or undefined if it did not exist. */
  accountAt(id: string, ledger: number): ChainAccount | undefined {
    const current = this.accounts.get(id);
    // The latest state is the live record, so changes made to it directly are seen.
    if (!current || ledger >= this.latest.sequence) return current;
    return this.history.at(current, ledger);
  }

  /** The smallest balance an account must keep: two base reserves, and one per data entry. */
  minimumBalance(account?: ChainAccount): bigint {
    const subentries = account ? BigInt(Object.keys(account.data).length) : 0n;
    return (2n + subentries) * this.options.baseReserve;
  }

  /** A transaction in the ledger by hash. */
  transaction(hash: string): LedgerTransaction | undefined {
    return this.byHash.get(hash);
  }

  /** Every transaction in the ledger, oldest first. */
  transactions(): readonly LedgerTransaction[] {
    return this.applied;
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
  submit(envelopeXdr: string): ChainSubmission {
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

  private rejection(hash: string, codes: TxResultCodes): ChainSubmission & { kind: "rejected" } {
    return { kind: "rejected", hash, codes, resultXdr: resultXdr(0n, codes) };
  }

  private checkSubmission(tx: Transaction): TxResultCodes | undefined {
    const source = this.accounts.get(tx.source);
    if (!source) return { transaction: "tx_no_source_account" };
    if (tx.operations.length === 0) return { transaction: "tx_missing_operation" };
    if (BigInt(tx.fee) < this.options.baseFee * BigInt(tx.operations.length)) {
      return { transaction: "tx_insufficient_fee" };
    }
    const timing = checkTimeBounds(tx, this.nextCloseTime());
    if (timing) return timing;
    if (!isProperlySigned(tx)) return { transaction: "tx_bad_auth" };
    const queued = this.pending.filter((p) => p.tx.source === tx.source).length;
    if (BigInt(tx.sequence) !== source.sequence + 1n + BigInt(queued))
      return { transaction: "tx_bad_seq" };
    if (source.balance - BigInt(tx.fee) < this.minimumBalance(source)) {
      return { transaction: "tx_insufficient_balance" };
    }
    const malformed = tx.operations.map((op) => (isWellFormed(op) ? "op_success" : "op_malformed"));
    if (malformed.includes("op_malformed"))
      return { transaction: "tx_failed", operations: malformed };
    return undefined;
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
    const touched = new Set<string>();

    for (const item of this.pending) {
      if (this.options.oneTransactionPerAccountPerLedger && sourcesThisLedger.has(item.tx.source)) {
        keep.push(item);
        continue;
      }
      const dropped = checkTimeBounds(item.tx, closedAt) ?? this.checkSequence(item.tx);
      if (dropped) {
        // Dropped from the queue: never in a ledger, no fee, sequence not consumed.
        settled.push([item, this.rejection(item.hash, dropped)]);
        continue;
      }
      sourcesThisLedger.add(item.tx.source);
      const transaction = this.apply(item, sequence, closedAt);
      touched.add(transaction.sourceAccount);
      for (const payment of transaction.payments) touched.add(payment.from).add(payment.to);
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
    for (const id of touched) {
      const account = this.accounts.get(id);
      if (account) this.history.record(account, sequence);
    }
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
      } else if (balanceOf(from) - amount < this.minimumBalance(this.accounts.get(from))) {
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
      order: this.applied.length + 1,
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
    this.applied.push(transaction);
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
