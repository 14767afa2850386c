import { StrKey } from "@stellar/stellar-sdk";
import { z } from "zod";
import { NETWORKS } from "../domain/payment-dto.js";
import { amountTextSchema } from "./amount-text.js";
import { faultRuleSchema } from "./faults.js";
import { userInitSchema } from "./users.js";

/** The schema of {@link SandboxOptions}; bad options fail with a `ValidationError` naming each. */
export const sandboxOptionsSchema = z.strictObject({
  /** Interface to bind. @default "127.0.0.1" */
  host: z.string().default("127.0.0.1"),
  /** Port for both faces (Pi API under `/v2`, Horizon at the root); 0 picks a free one. @default 0 */
  port: z.number().int().min(0).max(65535).default(0),
  /** The network, which is also the blockchain passphrase. @default "Pi Testnet" */
  network: z.enum(NETWORKS).default("Pi Testnet"),
  /** The app's server API key. @default random */
  apiKey: z.string().min(8).optional(),
  /** The app wallet's secret seed. @default random (from `seed`) */
  walletSeed: z
    .string()
    .refine((s) => StrKey.isValidEd25519SecretSeed(s), "must be a Stellar secret seed (S…)")
    .optional(),
  /** Pi in the app wallet at start. @default "100000" */
  walletBalance: amountTextSchema.default("100000"),
  /** Users to register: a count, or each one's settings. @default 3 */
  users: z
    .union([z.number().int().min(0), z.array(userInitSchema)], {
      error: () => "must be a count of users or a list of user settings",
    })
    .default(3),
  /** Close a ledger every N ms, or only when told (`closeLedger()`). @default 5000 */
  ledgerIntervalMs: z
    .union([z.number().int().min(1), z.literal("manual")], {
      error: () => `must be a whole number of ms (at least 1) or "manual"`,
    })
    .default(5000),
  /**
   * Chain time from the wall clock, or advanced `ledgerSeconds` per close. On the wall clock
   * each close must advance at least 1 s, so ledgers faster than that would run ahead of
   * real time and time bounds would expire early. @default "simulated" for manual ledgers
   * or ledgers under 1 s, else "wall"
   */
  clock: z.enum(["wall", "simulated"]).optional(),
  /** Chain seconds per ledger under the simulated clock. @default 5 */
  ledgerSeconds: z.number().int().min(1).default(5),
  /** Pi's one-incomplete-payment rule applied per app or per user. @default "app" */
  incompleteLimit: z.enum(["app", "user"]).default("app"),
  /** At most one transaction per source account in a ledger (modern Stellar's queue rule). @default false */
  oneTransactionPerAccountPerLedger: z.boolean().default(false),
  /** Delay before Pi links a landed transaction to its payment, or "never". @default 0 */
  linkLagMs: z
    .union([z.number().int().min(0), z.literal("never")], {
      error: () => `must be a whole number of ms or "never"`,
    })
    .default(0),
  /** Answer `too_many_cancelled_payments` once this many payments were cancelled. @default unlimited */
  maxCancelledPayments: z.number().int().min(0).optional(),
  /** Answer `too_many_payments` once this many A2U payments were created. @default unlimited */
  maxPayments: z.number().int().min(0).optional(),
  /** Whether complete verifies a transaction sent through a channel account (Pi's answer is not known). @default true */
  acceptChannelTransactions: z.boolean().default(true),
  /**
   * Whether Pi links a landed transaction with a payment's memo that does not pay from the
   * payment's `from_address` (e.g. a stranger's dust payment to the app wallet). Real Pi's
   * behaviour is not known. @default false
   */
  linkForeignTransactions: z.boolean().default(false),
  /** How long `POST /transactions` waits for its ledger before answering 504. @default 30000 */
  submitTimeoutMs: z.number().int().min(1).default(30_000),
  /** The base fee per operation, in stroops. @default 100000 (0.01 Pi) */
  baseFeeStroops: z.number().int().min(1).default(100_000),
  /** Pi per base reserve; an account keeps two. @default "0.5" */
  baseReserve: amountTextSchema.default("0.5"),
  /** Faults active from the start. @default [] */
  faults: z.array(faultRuleSchema).default([]),
  /** Seed of every random choice (ids, keys, faults). @default random, see `sandbox.seed` */
  seed: z.number().int().optional(),
  /** Requests kept in the log. @default 10000 */
  requestLogLimit: z.number().int().min(0).default(10_000),
});

/**
 * Options of `startSandbox`. Every one has a default; the defaults model the real network
 * (5 s ledgers on the wall clock). Tests usually want `{ ledgerIntervalMs: 10 }`: fast
 * ledgers that each count as 5 s of chain time (the simulated clock, the default for
 * ledgers under 1 s), so time bounds expire after a few closes.
 */
export type SandboxOptions = z.input<typeof sandboxOptionsSchema>;

/** The options after parsing, defaults filled in. */
export type SandboxSettings = z.output<typeof sandboxOptionsSchema>;
