import { z } from "zod";
import type { PiChain, PiPlatform } from "../adapters/types.js";
import { NETWORKS } from "../domain/payment-dto.js";
import { parseWith } from "../domain/validation.js";
import type { PayoutEffects } from "../machines/payout-effects.js";
import type { PayoutStore } from "../storage/types.js";
import { telemetryOptionSchema } from "../telemetry/telemetry-options.js";
import type { InspectOption } from "./inspection.js";
import type { Payout } from "./payout-view.js";
import type { Probe } from "./runner-types.js";

/**
 * The host's hook inside the save that brings a payout to rest. `tx` is the store's
 * transaction handle: a better-sqlite3 `Database` on SQLite, a pg client on PostgreSQL.
 */
// biome-ignore lint/suspicious/noExplicitAny: the handle's type is the store's; annotate `tx` with it.
export type OnSettled = (payout: Payout, tx: any) => void | Promise<void>;

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === "function", `must be a function (${what})`);

/** The options of {@link createPayouts}, declared once: the type and its checks come from here. */
export const payoutsOptionsSchema = z.strictObject({
  /** The app's server API key. Never stored, logged or put in an error. */
  apiKey: z.string().trim().min(1, "must be your app's server API key"),
  /** The app wallet's secret seed. Never stored, logged or put in an error. */
  walletSeed: z.string().min(1, "must be the app wallet's secret seed"),
  /** "Pi Network" (Mainnet) or "Pi Testnet". */
  network: z.enum(NETWORKS, {
    error: () => `must be one of ${NETWORKS.map((n) => `"${n}"`).join(", ")}`,
  }),
  /** Pi's Platform API, with or without its `/v2`. @default "https://api.minepi.com" */
  apiUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** @default Pi's Horizon for `network` */
  horizonUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Where payouts live (`pi-payments/sqlite`, `pi-payments/postgres`, `pi-payments/memory`).
   * @default a SQLite file `pi-payments.db` in the working directory, opened on first use
   */
  store: z
    .custom<PayoutStore>(
      (v) => typeof (v as PayoutStore | undefined)?.save === "function",
      "must be a PayoutStore (createSqliteStore, createPostgresStore, createMemoryStore)",
    )
    .optional(),
  /**
   * Pi allows one incomplete payment per app (documented), or per user, which is not
   * known. Payouts queue for this slot instead of failing. @default "app"
   */
  incompleteLimit: z.enum(["app", "user"]).default("app"),
  /** Seconds a transaction stays valid (see `createPiChain`). @default 60 */
  timeBoundSeconds: z.number().int().min(5).max(86_400).optional(),
  /** Channel accounts' seeds (see `createPiChain`): opt-in, for throughput. @default [] */
  channels: z.array(z.string()).optional(),
  /** The wait after a transient failure: first delay, doubled each time up to the ceiling, in ms. */
  backoff: z
    .strictObject({
      /** @default 1000 */
      baseDelayMs: z.number().int().min(0).default(1000),
      /** @default 60000 */
      maxDelayMs: z.number().int().min(0).default(60_000),
    })
    .prefault({}),
  /** `not_verified` answers to complete before the payout asks a person. @default 30 */
  maxNotVerified: z.number().int().min(1).default(30),
  /**
   * How long a create request that may be in flight (after a crash or a timeout) can still
   * make a Pi payment. Cancelling such a payout waits this long before concluding that no
   * payment exists. @default 60000
   */
  createGraceMs: z.number().int().min(0).default(60_000),
  /** Envelopes in a row that may die unlanded before a payout asks a person. @default 10 */
  maxDeadEnvelopes: z.number().int().min(1).default(10),
  /** How long a process's claim on a payout lasts without renewal. @default 30000 */
  leaseMs: z.number().int().min(10).default(30_000),
  /** How often a payout waiting for a slot held by another process asks again. @default 1000 */
  slotPollMs: z.number().int().min(1).default(1000),
  /** How often to look at a payout driven by another process. @default 500 */
  pollMs: z.number().int().min(1).default(500),
  /**
   * This runtime's name in leases and the journal. The default (`host:pid:locality.random`)
   * lets a restarted process on the same host take over the leases of one that died at
   * once; a name you choose is never judged dead, its leases expire instead.
   * @default host:pid:locality.random
   */
  owner: z.string().min(1).optional(),
  /** A Pi Platform adapter to use instead of one made from apiKey and apiUrl. */
  platform: z
    .custom<PiPlatform>(
      (v) => typeof (v as PiPlatform | undefined)?.createPayment === "function",
      "must be a PiPlatform (createPiPlatform)",
    )
    .optional(),
  /** A chain adapter to use instead of one made from walletSeed and horizonUrl. */
  chain: z
    .custom<PiChain>(
      (v) => typeof (v as PiChain | undefined)?.buildPayment === "function",
      "must be a PiChain (createPiChain)",
    )
    .optional(),
  /** Replaces effects by name. For tests (e.g. a deliberately unsafe variant); not for production. */
  effects: z
    .custom<Partial<PayoutEffects>>(
      (v) =>
        typeof v === "object" &&
        v !== null &&
        Object.values(v).every((e) => typeof e === "function"),
      "must map effect names to functions",
    )
    .optional(),
  /**
   * Runs inside the transaction that saves a payout's arrival at rest (completed, cancelled,
   * failed), so that the host's own write (mark the order refunded) commits with it or not
   * at all. `tx` is the store's transaction: on SQLite the better-sqlite3 database (share
   * your file: `createSqliteStore({ database: yourDb })`; the hook must be synchronous), on
   * PostgreSQL a pg client inside the transaction. A throw rolls the step back; it is
   * journaled, shown in `payout.hookFailure`, and tried again with `backoff`, never skipped.
   * Needs a SQL store.
   */
  onSettled: fn<OnSettled>("onSettled(payout, tx)").optional(),
  /** Awaited at every await point of every payout: instrumentation, and crash tests. */
  probe: fn<Probe>("a probe").optional(),
  /** The clock, in ms. @default Date.now */
  now: fn<() => number>("a clock").default(() => Date.now),
  /**
   * Shows every payout's machine in the Stately inspector: `true` for a local inspector
   * server at ws://localhost:8080 (`startInspectorServer()` or `pi-payments … --inspect`
   * starts one), `{ url }`, or an inspector object. Secrets never reach it. @default false
   */
  inspect: z
    .custom<InspectOption>(
      (v) => typeof v === "boolean" || (typeof v === "object" && v !== null),
      "must be true, { url }, or an inspector",
    )
    .optional(),
  /**
   * OpenTelemetry (docs/observability.md): a span per payout with a child per effect, and
   * metrics, through `@opentelemetry/api` (an optional peer dependency). On by default and
   * silent until the host registers an SDK; `{ tracerProvider, meterProvider }` to use
   * providers of your own instead of the global ones; `false` turns it off.
   * @default the global providers
   */
  telemetry: telemetryOptionSchema.optional(),
});

/** Options of {@link createPayouts}. */
export type PayoutsOptions = z.input<typeof payoutsOptionsSchema>;

/** The options once checked, defaults filled in. */
export type PayoutsSettings = z.output<typeof payoutsOptionsSchema>;

/**
 * Checks the options of `createPayouts`.
 * @throws ValidationError `INVALID_OPTIONS` naming every bad option
 */
export function parsePayoutsOptions(options: unknown): PayoutsSettings {
  return parseWith(payoutsOptionsSchema, options, "payouts options", "INVALID_OPTIONS");
}
