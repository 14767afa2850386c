import type { TxResultCodes } from "./result-codes.js";

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
  /** Data entries, values base64 as Horizon prints them (e.g. SEP-29's `config.memo_required`). */
  data: Record<string, string>;
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
export type ChainSubmission =
  | { kind: "malformed"; detail: string }
  | { kind: "rejected"; hash: string; codes: TxResultCodes; resultXdr: string }
  | { kind: "included"; transaction: LedgerTransaction }
  | { kind: "pending"; hash: string; result: Promise<SubmitResult>; fresh: boolean };

/** How a pending transaction ended: in a ledger, or dropped from the queue. */
export type SubmitResult =
  | { kind: "included"; transaction: LedgerTransaction }
  | { kind: "rejected"; hash: string; codes: TxResultCodes; resultXdr: string };
