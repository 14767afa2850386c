import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { StrKey } from "@stellar/stellar-sdk";
import { type Command, Option } from "commander";
import pg from "pg";
import { createPiChain, createPiPlatform } from "../adapters/index.js";
import { ConfigurationError } from "../domain/errors.js";
import { NETWORKS, type NetworkName } from "../domain/payment-dto.js";
import { DEFAULT_PI_API_URL, normalizePiApiUrl } from "../domain/pi-api-url.js";
import { createPayouts, type Payouts, type PayoutsOptions } from "../runtime/index.js";
import type { SetupCheckDeps } from "../runtime/setup-check.js";
import { createPostgresStore } from "../storage/postgres/postgres-store.js";
import { createSqliteStore } from "../storage/sqlite-store.js";
import type { PayoutStore } from "../storage/types.js";
import { parseIntOption } from "./options.js";

/** Flags every command that talks to Pi or to the store accepts. */
export interface RuntimeFlags {
  db?: string;
  schema?: string;
  network?: string;
  apiUrl?: string;
  horizonUrl?: string;
  incompleteLimit?: "app" | "user";
  leaseMs?: number;
  pollMs?: number;
  timeBound?: number;
  inspect?: boolean;
}

/** Adds the store and network flags (the environment gives their defaults). */
export function withStoreOptions(command: Command): Command {
  return command
    .option(
      "--db <sqlite path | postgres url>",
      "the payouts store [env PI_PAYMENTS_DB, default ./pi-payments.db]",
    )
    .option("--schema <name>", "PostgreSQL schema [env PI_PAYMENTS_SCHEMA, default pi_payments]")
    .option(
      "--network <name>",
      'network: "Pi Network" or "Pi Testnet" [env PI_NETWORK, default "Pi Testnet"]',
    );
}

/** Adds the flags of commands that drive payouts. */
export function withRuntimeOptions(command: Command): Command {
  return withStoreOptions(command)
    .option(
      "--api-url <url>",
      "Pi Platform API, with or without /v2 [env PI_API_URL, default https://api.minepi.com]",
    )
    .option("--horizon-url <url>", "Horizon [env PI_HORIZON_URL, default Pi's for the network]")
    .addOption(
      new Option("--incomplete-limit <scope>", "Pi's one-incomplete-payment rule").choices([
        "app",
        "user",
      ]),
    )
    .option("--lease-ms <ms>", "lease on a payout", parseIntOption("lease-ms"))
    .option(
      "--poll-ms <ms>",
      "how often to look at the store for work and slots",
      parseIntOption("poll-ms"),
    )
    .option("--time-bound <seconds>", "transaction validity", parseIntOption("time-bound"))
    .option("--inspect", "send every payout's machine to the Stately inspector (see docs)");
}

/** Where the payouts live, from `--db` or `PI_PAYMENTS_DB`. */
export function storeLocation(flags: RuntimeFlags, env: NodeJS.ProcessEnv): string {
  return flags.db ?? env.PI_PAYMENTS_DB ?? "pi-payments.db";
}

/** True for a PostgreSQL URL, false for a SQLite path. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//.test(location);
}

/** The PostgreSQL schema, from `--schema` or `PI_PAYMENTS_SCHEMA`. */
export function schemaOf(flags: RuntimeFlags, env: NodeJS.ProcessEnv): string {
  return flags.schema ?? env.PI_PAYMENTS_SCHEMA ?? "pi_payments";
}

/**
 * The store's location for a person to read: the SQLite file's absolute path, or the
 * PostgreSQL URL without its password (and schema). Safe to print.
 */
export function describeStore(location: string, schema = "pi_payments"): string {
  if (!isPostgresUrl(location)) {
    return location === ":memory:"
      ? "an in-memory SQLite store"
      : `SQLite file ${resolve(location)}`;
  }
  return `PostgreSQL ${withoutPassword(location)} (schema ${schema})`;
}

/** A connection URL with any password taken out, in the userinfo or the query. */
export function withoutPassword(connection: string): string {
  try {
    const parsed = new URL(connection);
    parsed.password = "";
    parsed.searchParams.delete("password");
    return parsed.toString();
  } catch {
    // Not a URL that WHATWG parses (a socket path, say): drop whatever could be a password.
    return connection.replace(/:[^:@/]*@/, "@").replace(/([?&])password=[^&]*&?/i, "$1");
  }
}

/**
 * Opens the store at a location: a PostgreSQL URL (in `schema`), or a SQLite file path.
 * With `mustExist`, a SQLite file that is not there is refused instead of created empty:
 * commands that only read must not hide a wrong path behind an empty new database.
 */
export function openStore(
  location: string,
  schema = "pi_payments",
  { mustExist = false }: { mustExist?: boolean } = {},
): PayoutStore {
  if (isPostgresUrl(location)) return createPostgresStore({ connectionString: location, schema });
  if (mustExist && location !== ":memory:" && !existsSync(location)) {
    throw new ConfigurationError(
      `No SQLite store at ${resolve(location)}: check --db or PI_PAYMENTS_DB (nothing was created).`,
      "STORE_NOT_FOUND",
    );
  }
  return createSqliteStore({ path: location });
}

/** The network from `--network` or `PI_NETWORK`. */
export function networkOf(flags: RuntimeFlags, env: NodeJS.ProcessEnv): NetworkName {
  const network = flags.network ?? env.PI_NETWORK ?? "Pi Testnet";
  if (!(NETWORKS as readonly string[]).includes(network)) {
    throw new ConfigurationError(
      `PI_NETWORK (or --network) must be "Pi Network" or "Pi Testnet", got "${network}".`,
      "INVALID_NETWORK",
    );
  }
  return network as NetworkName;
}

function url(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\/\S+$/.test(value))
    throw new ConfigurationError(`${name} must be an http(s) URL, got "${value}".`, "INVALID_URL");
  return value.replace(/\/+$/, "");
}

/** Pi's API from `--api-url` or `PI_API_URL`, with or without its `/v2`. */
export function apiUrlOf(flags: RuntimeFlags, env: NodeJS.ProcessEnv): string | undefined {
  const value = url("PI_API_URL (or --api-url)", flags.apiUrl ?? env.PI_API_URL);
  return value === undefined ? undefined : normalizePiApiUrl(value);
}

/** Horizon from `--horizon-url` or `PI_HORIZON_URL`. */
export function horizonUrlOf(flags: RuntimeFlags, env: NodeJS.ProcessEnv): string | undefined {
  return url("PI_HORIZON_URL (or --horizon-url)", flags.horizonUrl ?? env.PI_HORIZON_URL);
}

/**
 * The credentials, from the environment only: flags would show them in `ps` and shell
 * history. Errors name the variable and never repeat its value.
 */
export function credentials(env: NodeJS.ProcessEnv): { apiKey: string; walletSeed: string } {
  const apiKey = env.PI_API_KEY?.trim();
  if (!apiKey)
    throw new ConfigurationError(
      "PI_API_KEY is not set: export your app's server API key.",
      "MISSING_API_KEY",
    );
  const walletSeed = env.PI_WALLET_SEED?.trim();
  if (!walletSeed)
    throw new ConfigurationError(
      "PI_WALLET_SEED is not set: export your app wallet's secret seed.",
      "MISSING_WALLET_SEED",
    );
  if (!StrKey.isValidEd25519SecretSeed(walletSeed)) {
    throw new ConfigurationError(
      "PI_WALLET_SEED is not a wallet secret seed (56 characters starting with S); its value is not shown.",
      "INVALID_WALLET_SEED",
    );
  }
  return { apiKey, walletSeed };
}

/**
 * Channel accounts' seeds (opt-in throughput, see docs/benchmarks.md), from
 * `PI_CHANNEL_SEEDS`: comma-separated, environment only since they are secrets.
 */
export function channelSeeds(env: NodeJS.ProcessEnv): string[] {
  const seeds = (env.PI_CHANNEL_SEEDS ?? "")
    .split(",")
    .map((seed) => seed.trim())
    .filter((seed) => seed.length > 0);
  const bad = seeds.findIndex((seed) => !StrKey.isValidEd25519SecretSeed(seed));
  if (bad >= 0) {
    throw new ConfigurationError(
      `PI_CHANNEL_SEEDS holds something that is not a secret seed (entry ${bad + 1}); its value is not shown.`,
      "INVALID_CHANNEL_SEEDS",
    );
  }
  return seeds;
}

/** A payouts runtime configured from flags and the environment. */
export function runtimeFrom(
  flags: RuntimeFlags,
  env: NodeJS.ProcessEnv,
  extra: Partial<PayoutsOptions> = {},
  { storeMustExist = false }: { storeMustExist?: boolean } = {},
): { payouts: Payouts; store: PayoutStore; location: string; storeText: string } {
  const { apiKey, walletSeed } = credentials(env);
  const channels = channelSeeds(env);
  const network = networkOf(flags, env);
  const apiUrl = apiUrlOf(flags, env);
  const horizonUrl = horizonUrlOf(flags, env);
  const location = storeLocation(flags, env);
  const schema = schemaOf(flags, env);
  const store = openStore(location, schema, { mustExist: storeMustExist });
  const payouts = createPayouts({
    apiKey,
    walletSeed,
    network,
    store,
    ...(apiUrl ? { apiUrl } : {}),
    ...(horizonUrl ? { horizonUrl } : {}),
    ...(flags.incompleteLimit ? { incompleteLimit: flags.incompleteLimit } : {}),
    ...(flags.leaseMs ? { leaseMs: flags.leaseMs } : {}),
    ...(flags.pollMs ? { pollMs: flags.pollMs, slotPollMs: flags.pollMs } : {}),
    ...(flags.timeBound ? { timeBoundSeconds: flags.timeBound } : {}),
    ...(channels.length > 0 ? { channels } : {}),
    ...extra,
  });
  return { payouts, store, location, storeText: describeStore(location, schema) };
}

/**
 * The ports a payouts runtime would use, built from the same flags and environment as
 * {@link runtimeFrom}, for `pi-payments doctor`: calls that give up within `timeoutMs` and
 * are never retried, so that a hanging server holds nothing open after the check.
 */
export function setupFrom(
  flags: RuntimeFlags,
  env: NodeJS.ProcessEnv,
  { timeoutMs }: { timeoutMs: number },
): { deps: SetupCheckDeps; location: string; close(): Promise<void> } {
  const { apiKey, walletSeed } = credentials(env);
  const network = networkOf(flags, env);
  const apiUrl = apiUrlOf(flags, env) ?? DEFAULT_PI_API_URL;
  const horizonUrl = horizonUrlOf(flags, env);
  const location = storeLocation(flags, env);
  const schema = schemaOf(flags, env);
  const platform = createPiPlatform({ apiKey, baseUrl: apiUrl, timeoutMs, retry: false });
  const chain = createPiChain({ network, walletSeed, ...(horizonUrl ? { horizonUrl } : {}) });
  const pool = isPostgresUrl(location)
    ? new pg.Pool({ connectionString: location, max: 1, connectionTimeoutMillis: timeoutMs })
    : undefined;
  // A pool that cannot connect must not crash the process from its idle error event.
  pool?.on("error", () => undefined);
  const store = pool
    ? createPostgresStore({ pool: pool as never, schema })
    : createSqliteStore({ path: location });
  return {
    deps: {
      platform,
      chain,
      store,
      network,
      apiUrl,
      storeLocation: describeStore(location, schema),
    },
    location,
    async close() {
      await Promise.allSettled([platform.close(), chain.close(), store.close()]);
      await pool?.end().catch(() => undefined);
    },
  };
}
