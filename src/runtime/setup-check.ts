import type { PiChain, PiPlatform } from "../adapters/types.js";
import { parseAmount7, STROOPS_PER_PI, stroopsToAmount } from "../domain/amount.js";
import { headline, isPiApiError, isPiPaymentsError } from "../domain/errors.js";
import type { NetworkName } from "../domain/payment-dto.js";
import type { PayoutStore } from "../storage/types.js";

/** One verdict of `checkSetup` (`payouts.check()`). */
export interface SetupCheck {
  /** What was checked: `api key`, `network`, `wallet`, `balance` or `store`. */
  name: string;
  ok: boolean;
  /** One line a person can act on; never a secret. */
  verdict: string;
  /** The error code behind a failed check (e.g. `PI_UNAUTHORIZED`, `CHECK_TIMED_OUT`). */
  code?: string;
}

/** What `checkSetup` (`payouts.check()`) found: every check, and whether all passed. */
export interface SetupReport {
  ok: boolean;
  checks: SetupCheck[];
}

/** What `checkSetup` (`payouts.check()`) looks at: the ports a payouts runtime uses. */
export interface SetupCheckDeps {
  platform: PiPlatform;
  chain: PiChain;
  store: PayoutStore;
  /** The network the payouts are configured for. */
  network: NetworkName;
  /** Pi's API base URL, named in verdicts (the platform port does not expose it). @default "Pi's API" */
  apiUrl?: string;
  /** The store's location as a person reads it (no password), named in verdicts. @default the store's name */
  storeLocation?: string;
}

/** Options of `checkSetup` (`payouts.check()`). */
export interface SetupCheckOptions {
  /** How long each check may take; they run side by side. @default 3000 */
  timeoutMs?: number;
  /** The fetch used for Horizon's reads. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** What one payout costs at least: 1 Pi, plus the fee read from Horizon. */
const PAYOUT_STROOPS = STROOPS_PER_PI;
/** Pi's base fee (PI-PLATFORM.md §2), when Horizon does not say. */
const DEFAULT_FEE_STROOPS = 100_000n;

class CheckTimeout extends Error {}

/**
 * Checks that payouts can work before the first one is tried: that Pi accepts the API key,
 * that Horizon serves the configured network, that the wallet exists and can pay (its
 * balance above the reserve it must keep), and that the store answers. Each check has its
 * own timeout and they run side by side, so the whole check ends in about `timeoutMs` even
 * when a server hangs. Never throws for what it finds; never puts a secret in a verdict.
 *
 * @example
 * const report = await checkSetup({ platform, chain, store, network: "Pi Testnet" });
 * for (const check of report.checks) console.log(check.ok ? "✓" : "✗", check.name, check.verdict);
 */
export async function checkSetup(
  deps: SetupCheckDeps,
  options: SetupCheckOptions = {},
): Promise<SetupReport> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const horizon = horizonReads(deps.chain.horizonUrl, options.fetch ?? fetch, timeoutMs);
  const wallet = walletChecks(deps, horizon, timeoutMs);
  const checks = await Promise.all([
    checkApiKey(deps, timeoutMs),
    checkNetwork(deps, horizon, timeoutMs),
    wallet.then(([exists]) => exists),
    wallet.then(([, balance]) => balance),
    checkStore(deps, timeoutMs),
  ]);
  return { ok: checks.every((check) => check.ok), checks };
}

async function checkApiKey(deps: SetupCheckDeps, timeoutMs: number): Promise<SetupCheck> {
  const name = "api key";
  const where = deps.apiUrl ? `Pi's API at ${deps.apiUrl}` : "Pi's API";
  try {
    const incomplete = await within(timeoutMs, deps.platform.incompleteServerPayments());
    const open =
      incomplete.length === 0
        ? "no incomplete payment"
        : `${incomplete.length} incomplete payment(s): new payouts wait for it (pi-payments recover reports it)`;
    return { name, ok: true, verdict: `${where} accepts the API key; ${open}` };
  } catch (error) {
    if (error instanceof CheckTimeout)
      return failed(
        name,
        "CHECK_TIMED_OUT",
        `${where} did not answer within ${seconds(timeoutMs)}`,
      );
    if (!isPiApiError(error))
      return failed(name, codeOf(error), `${where}: ${firstSentence(error)}`);
    if (error.code === "PI_UNAUTHORIZED") {
      return failed(
        name,
        error.code,
        `the API key is refused (401 from ${where}): check PI_API_KEY is this app's server API key`,
      );
    }
    if (error.code === "PI_UNREACHABLE")
      return failed(
        name,
        error.code,
        `${where} could not be reached: check the URL and the network`,
      );
    if (error.status === 404) {
      return failed(
        name,
        error.code,
        `${where} answered 404 to ${error.method} ${error.path}: is it Pi's API (e.g. https://api.minepi.com)?`,
      );
    }
    return failed(name, error.code, `${where}: ${firstSentence(error)}`);
  }
}

async function checkNetwork(
  deps: SetupCheckDeps,
  horizon: HorizonReads,
  timeoutMs: number,
): Promise<SetupCheck> {
  const name = "network";
  const where = `Horizon at ${deps.chain.horizonUrl}`;
  try {
    const root = await within(timeoutMs, horizon.get(""));
    const passphrase = root?.network_passphrase;
    if (typeof passphrase !== "string")
      return failed(name, "HORIZON_BAD_RESPONSE", `${where} names no network: is it a Horizon?`);
    if (passphrase !== deps.network) {
      return failed(
        name,
        "WRONG_NETWORK",
        `${where} serves "${passphrase}", not "${deps.network}": fix PI_NETWORK (or --network) or the Horizon URL`,
      );
    }
    return { name, ok: true, verdict: `${where} serves "${passphrase}"` };
  } catch (error) {
    return horizonFailure(name, where, error, timeoutMs);
  }
}

/** The wallet's existence and its balance, from one read of its account. */
async function walletChecks(
  deps: SetupCheckDeps,
  horizon: HorizonReads,
  timeoutMs: number,
): Promise<[SetupCheck, SetupCheck]> {
  const address = deps.chain.walletAddress;
  const where = `Horizon at ${deps.chain.horizonUrl}`;
  let account: HorizonAccount | undefined;
  let ledger: HorizonLedger | undefined;
  try {
    [account, ledger] = await within(
      timeoutMs,
      Promise.all([
        horizon.get(`accounts/${address}`) as Promise<HorizonAccount | undefined>,
        // The reserve and fee in force; a failure here only makes the estimate rougher.
        horizon
          .get("ledgers?order=desc&limit=1")
          .then((page) => (page as HorizonLedgerPage | undefined)?._embedded?.records?.[0])
          .catch(() => undefined),
      ]),
    );
  } catch (error) {
    const failure = horizonFailure("wallet", where, error, timeoutMs);
    return [failure, { ...failure, name: "balance", verdict: "unknown: the wallet was not read" }];
  }
  if (account === undefined) {
    const missing = `the wallet ${address} does not exist on ${where}: fund it before paying from it`;
    return [
      failed("wallet", "ACCOUNT_NOT_FOUND", missing),
      failed("balance", "ACCOUNT_NOT_FOUND", "none: the wallet does not exist"),
    ];
  }
  const exists: SetupCheck = {
    name: "wallet",
    ok: true,
    verdict: `the wallet ${address} exists`,
  };
  return [exists, balanceCheck(account, ledger)];
}

function balanceCheck(account: HorizonAccount, ledger: HorizonLedger | undefined): SetupCheck {
  const name = "balance";
  const native = account.balances?.find((b) => b.asset_type === "native");
  const balance = parseAmount7(native?.balance ?? "");
  if (balance === undefined)
    return failed(name, "HORIZON_BAD_RESPONSE", "unknown: Horizon sent no native balance");
  const selling = parseAmount7(native?.selling_liabilities ?? "0") ?? 0n;
  const reservePer = integer(ledger?.base_reserve_in_stroops);
  const fee = integer(ledger?.base_fee_in_stroops) ?? DEFAULT_FEE_STROOPS;
  const entries =
    2n +
    (integer(account.subentry_count) ?? 0n) +
    (integer(account.num_sponsoring) ?? 0n) -
    (integer(account.num_sponsored) ?? 0n);
  const reserve = reservePer === undefined ? undefined : entries * reservePer;
  const spendable = balance - (reserve ?? 0n) - selling;
  const payouts = spendable > 0n ? spendable / (PAYOUT_STROOPS + fee) : 0n;
  const each = `1 Pi (+${pi(fee)} Pi fee)`;
  const kept =
    reserve === undefined
      ? "the reserve it must keep is unknown (Horizon did not say)"
      : `it must keep ${pi(reserve)} Pi in reserve`;
  const verdict = `${pi(balance)} Pi; ${kept}: about ${payouts} ${payouts === 1n ? "payout" : "payouts"} of ${each} left`;
  return payouts > 0n
    ? { name, ok: true, verdict }
    : failed(name, "LOW_BALANCE", `${verdict}; fund the wallet`);
}

async function checkStore(deps: SetupCheckDeps, timeoutMs: number): Promise<SetupCheck> {
  const name = "store";
  const where = deps.storeLocation ?? `the ${deps.store.name} store`;
  try {
    const some = await within(timeoutMs, deps.store.list({ limit: 1 }));
    return {
      name,
      ok: true,
      verdict: `${where} answers (${some.length === 0 ? "no payouts yet" : "it holds payouts"})`,
    };
  } catch (error) {
    if (error instanceof CheckTimeout)
      return failed(
        name,
        "CHECK_TIMED_OUT",
        `${where} did not answer within ${seconds(timeoutMs)}`,
      );
    return failed(name, codeOf(error), `${where} cannot be read: ${firstSentence(error)}`);
  }
}

interface HorizonAccount {
  subentry_count?: number;
  num_sponsoring?: number;
  num_sponsored?: number;
  balances?: Array<{ asset_type?: string; balance?: string; selling_liabilities?: string }>;
}
interface HorizonLedger {
  base_fee_in_stroops?: number;
  base_reserve_in_stroops?: number;
}
interface HorizonLedgerPage {
  _embedded?: { records?: HorizonLedger[] };
}
interface HorizonReads {
  /** The JSON record at `path`, or undefined for a 404. */
  get(path: string): Promise<Record<string, unknown> | undefined>;
}

class HorizonHttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/**
 * Horizon's reads for the checks. The chain port reads neither the root nor the reserve,
 * and its reads cannot be cancelled: these are, so that nothing outlives the check.
 */
function horizonReads(base: string, fetchFn: typeof fetch, timeoutMs: number): HorizonReads {
  return {
    async get(path) {
      const response = await fetchFn(`${base.replace(/\/+$/, "")}/${path}`, {
        headers: { Accept: "application/hal+json, application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new HorizonHttpError(response.status);
      return (await response.json()) as Record<string, unknown>;
    },
  };
}

function horizonFailure(
  name: string,
  where: string,
  error: unknown,
  timeoutMs: number,
): SetupCheck {
  if (error instanceof CheckTimeout || (error instanceof Error && error.name === "TimeoutError"))
    return failed(name, "CHECK_TIMED_OUT", `${where} did not answer within ${seconds(timeoutMs)}`);
  if (error instanceof HorizonHttpError)
    return failed(
      name,
      "HORIZON_HTTP_ERROR",
      `${where} answered ${error.message}: is it a Horizon?`,
    );
  if (error instanceof SyntaxError)
    return failed(name, "HORIZON_BAD_RESPONSE", `${where} answered with something not JSON`);
  return failed(
    name,
    "HORIZON_UNREACHABLE",
    `${where} could not be reached: check the URL and the network`,
  );
}

function failed(name: string, code: string, verdict: string): SetupCheck {
  return { name, ok: false, verdict, code };
}

/** Resolves as `promise` does, or rejects with a CheckTimeout after `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout()), ms);
  });
  // The loser may settle later: its outcome no longer matters.
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function codeOf(error: unknown): string {
  return isPiPaymentsError(error) ? error.code : "UNEXPECTED_ERROR";
}

/** The first sentence of an error's message: the what; the rest is advice for other callers. */
function firstSentence(error: unknown): string {
  return headline(error instanceof Error ? error.message : String(error));
}

function integer(value: unknown): bigint | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : undefined;
}

function pi(stroops: bigint): string {
  return stroopsToAmount(stroops < 0n ? 0n : stroops);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
