import type { PaymentDTO } from "../domain/payment-dto.js";
import type { SandboxChain } from "./chain.js";
import type { FaultRule } from "./faults.js";
import type { SandboxPlatform } from "./platform.js";
import type { SandboxUserInfo, SandboxUserInit } from "./users.js";

/** What `pi-payments sandbox --json` prints: everything a client needs to connect. */
export interface SandboxInfo {
  apiUrl: string;
  horizonUrl: string;
  network: "Pi Network" | "Pi Testnet";
  apiKey: string;
  walletSeed: string;
  walletAddress: string;
  users: Array<{ uid: string; address: string | undefined }>;
}

/** One applied payment operation on the sandbox chain. */
export interface LedgerPayment {
  txid: string;
  memo: string | undefined;
  from: string;
  to: string;
  amount: string;
  ledger: number;
}

/** One request the sandbox received (no headers, no body: they may hold the API key). */
export interface RequestLogEntry {
  at: number;
  face: "pi" | "horizon";
  method: string;
  path: string;
  status: number | "dropped";
  faults: string[];
  /** For a submission: the hash of the envelope sent (public, and tells resends apart). */
  txid?: string;
  /** For a submission: the envelope's upper time bound, unix seconds (0: none). */
  maxTime?: number;
  /** For Horizon: the last ledger of the view that answered (its `Latest-Ledger` header). */
  latestLedger?: number;
}

/** A user-to-app payment to start, as `createUserPayment` takes it. */
export interface UserPaymentInit {
  uid: string;
  amount: number;
  memo: string;
  metadata?: Record<string, unknown>;
}

/** What closing a ledger did. */
export interface ClosedLedger {
  sequence: number;
  closedAt: number;
  transactions: number;
}

/** Rules that can change while the sandbox runs. */
export interface SandboxRuntimeSettings {
  linkLagMs?: number | "never";
  incompleteLimit?: "app" | "user";
  linkForeignTransactions?: boolean;
}

/** A running sandbox. */
export interface Sandbox extends SandboxInfo {
  readonly seed: number;
  readonly users: SandboxUserInfo[];
  /** The state shared by both faces, for tests that look underneath. */
  readonly chain: SandboxChain;
  readonly platform: SandboxPlatform;
  /** The connection details, as printed by `pi-payments sandbox --json`. */
  info(): SandboxInfo;
  /** Registers a user (funded wallet by default). */
  addUser(init?: SandboxUserInit): SandboxUserInfo;
  /** Every Pi payment, oldest first. */
  payments(): PaymentDTO[];
  /** Every applied payment operation, oldest first. */
  ledgerPayments(): LedgerPayment[];
  /** Closes one ledger now and waits for the answers it releases to be sent. */
  closeLedger(): Promise<ClosedLedger>;
  /** A native balance as Horizon prints it ("12.5000000"), or undefined for no account. */
  balance(address: string): string | undefined;
  /**
   * Adds `amount` Pi (a decimal string) to an account, creating it if missing, as a payment
   * from a faucet would; answers the new balance as Horizon prints it ("110.0000000").
   */
  fund(address: string, amount: string): string;
  /** Sets an account's balance to `amount` Pi ("0" empties it), creating it if missing; answers it as Horizon prints it. */
  setBalance(address: string, amount: string): string;
  /** A user-to-app payment, as if the user had started it in the Pi Browser. */
  createUserPayment(args: UserPaymentInit): PaymentDTO;
  /** The requests received, oldest first. */
  requests(): RequestLogEntry[];
  /** Empties the request log. */
  clearRequests(): void;
  /**
   * Requests being handled now (received, not yet answered or dropped), including
   * submissions held until their ledger closes. Tests wait for 0 before a final look, so
   * that a request a crashed client left in flight has had its effect.
   */
  inFlight(): number;
  /** Replaces the active faults. */
  setFaults(rules: FaultRule[]): void;
  /** Adds faults to the active ones. */
  addFaults(rules: FaultRule[]): void;
  /** Removes every fault. */
  clearFaults(): void;
  /** Changes rules while running. */
  configure(settings: SandboxRuntimeSettings): void;
  /** Stops the server and the ledger timer. */
  close(): Promise<void>;
}
