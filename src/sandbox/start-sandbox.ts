import { randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Keypair, StrKey, TransactionBuilder } from "@stellar/stellar-sdk";
import { z } from "zod";
import { amountToStroops, formatAmount7, parseAmount, stroopsToAmount } from "../domain/amount.js";
import type { PaymentDTO } from "../domain/payment-dto.js";
import { NETWORKS } from "../domain/payment-dto.js";
import { parseWith } from "../domain/validation.js";
import { SandboxChain } from "./chain.js";
import {
  type FaultError,
  FaultInjector,
  type FaultPlan,
  type FaultRule,
  faultRuleSchema,
} from "./faults.js";
import { horizonRoutes, problem } from "./horizon-routes.js";
import {
  htmlErrorPage,
  matchRoute,
  type Route,
  readBody,
  type SandboxReply,
  send,
} from "./http.js";
import { PiFailure, SandboxPlatform, type SandboxUser } from "./platform.js";
import { platformRoutes } from "./platform-routes.js";
import { createRandom, type Random } from "./random.js";

const amountText = z.string().refine((s) => {
  try {
    parseAmount(s);
    return true;
  } catch {
    return false;
  }
}, "must be a decimal amount with at most 7 decimals");

const userInitSchema = z.strictObject({
  uid: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  /** Pi to fund the user's wallet with; "0" leaves the wallet unfunded (not on the chain). */
  balance: z.union([amountText, z.literal("0")]).optional(),
  /** `false` for a user without a wallet (`missing_wallet`), `"invalid"` for a broken address. */
  wallet: z.union([z.literal(false), z.literal("invalid")]).optional(),
  scopes: z.array(z.string()).optional(),
});

/** A user to register in the sandbox's Pi app. */
export type SandboxUserInit = z.input<typeof userInitSchema>;

const optionsSchema = z.strictObject({
  host: z.string().default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(0),
  network: z.enum(NETWORKS).default("Pi Testnet"),
  apiKey: z.string().min(8).optional(),
  walletSeed: z
    .string()
    .refine((s) => StrKey.isValidEd25519SecretSeed(s), "must be a Stellar secret seed (S…)")
    .optional(),
  walletBalance: amountText.default("100000"),
  users: z.union([z.number().int().min(0), z.array(userInitSchema)]).default(3),
  ledgerIntervalMs: z.union([z.number().int().min(1), z.literal("manual")]).default(5000),
  clock: z.enum(["wall", "simulated"]).optional(),
  ledgerSeconds: z.number().int().min(1).default(5),
  incompleteLimit: z.enum(["app", "user"]).default("app"),
  oneTransactionPerAccountPerLedger: z.boolean().default(false),
  linkLagMs: z.union([z.number().int().min(0), z.literal("never")]).default(0),
  maxCancelledPayments: z.number().int().min(0).optional(),
  maxPayments: z.number().int().min(0).optional(),
  acceptChannelTransactions: z.boolean().default(true),
  submitTimeoutMs: z.number().int().min(1).default(30_000),
  baseFeeStroops: z.number().int().min(1).default(100_000),
  baseReserve: amountText.default("0.5"),
  faults: z.array(faultRuleSchema).default([]),
  seed: z.number().int().optional(),
  requestLogLimit: z.number().int().min(0).default(10_000),
});

/**
 * Options of {@link startSandbox}. Every one has a default; the defaults model the real
 * network (5 s ledgers on the wall clock). Tests usually want `{ ledgerIntervalMs: 10 }`:
 * fast ledgers that each count as 5 s of chain time (the simulated clock, the default for
 * ledgers under 1 s), so time bounds expire after a few closes.
 */
export interface SandboxOptions {
  /** Interface to bind. @default "127.0.0.1" */
  host?: string;
  /** Port for both faces (Pi API under `/v2`, Horizon at the root); 0 picks a free one. @default 0 */
  port?: number;
  /** @default "Pi Testnet" */
  network?: "Pi Network" | "Pi Testnet";
  /** The app's server API key. @default random */
  apiKey?: string;
  /** The app wallet's secret seed. @default random (from `seed`) */
  walletSeed?: string;
  /** Pi in the app wallet at start. @default "100000" */
  walletBalance?: string;
  /** Users to register: a count, or each one's settings. @default 3 */
  users?: number | SandboxUserInit[];
  /** Close a ledger every N ms, or only when told (`closeLedger()`). @default 5000 */
  ledgerIntervalMs?: number | "manual";
  /**
   * Chain time from the wall clock, or advanced `ledgerSeconds` per close. On the wall clock
   * each close must advance at least 1 s, so ledgers faster than that would run ahead of
   * real time and time bounds would expire early. @default "simulated" for manual ledgers
   * or ledgers under 1 s, else "wall"
   */
  clock?: "wall" | "simulated";
  /** Chain seconds per ledger under the simulated clock. @default 5 */
  ledgerSeconds?: number;
  /** Pi's one-incomplete-payment rule applied per app or per user. @default "app" */
  incompleteLimit?: "app" | "user";
  /** At most one transaction per source account in a ledger (modern Stellar's queue rule). @default false */
  oneTransactionPerAccountPerLedger?: boolean;
  /** Delay before Pi links a landed transaction to its payment, or "never". @default 0 */
  linkLagMs?: number | "never";
  /** Answer `too_many_cancelled_payments` once this many payments were cancelled. @default unlimited */
  maxCancelledPayments?: number;
  /** Answer `too_many_payments` once this many A2U payments were created. @default unlimited */
  maxPayments?: number;
  /** Whether complete verifies a transaction sent through a channel account (Pi's answer is not known). @default true */
  acceptChannelTransactions?: boolean;
  /** How long `POST /transactions` waits for its ledger before answering 504. @default 30000 */
  submitTimeoutMs?: number;
  /** @default 100000 (0.01 Pi) */
  baseFeeStroops?: number;
  /** Pi per base reserve; an account keeps two. @default "0.5" */
  baseReserve?: string;
  /** Faults active from the start. @default [] */
  faults?: FaultRule[];
  /** Seed of every random choice (ids, keys, faults). @default random, see `sandbox.seed` */
  seed?: number;
  /** Requests kept in the log. @default 10000 */
  requestLogLimit?: number;
}

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

/** A user of the sandbox's app, with what tests need to act as them. */
export type SandboxUserInfo = Readonly<SandboxUser>;

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
  closeLedger(): Promise<{ sequence: number; closedAt: number; transactions: number }>;
  /** A native balance as Horizon prints it ("12.5000000"), or undefined for no account. */
  balance(address: string): string | undefined;
  /** A user-to-app payment, as if the user had started it in the Pi Browser. */
  createUserPayment(args: {
    uid: string;
    amount: number;
    memo: string;
    metadata?: Record<string, unknown>;
  }): PaymentDTO;
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
  configure(settings: { linkLagMs?: number | "never"; incompleteLimit?: "app" | "user" }): void;
  /** Stops the server and the ledger timer. */
  close(): Promise<void>;
}

/**
 * Starts a local Pi Platform API and Pi blockchain (Horizon) over HTTP on loopback.
 *
 * @example
 * const sandbox = await startSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
 * const pi = new PiNetwork({ apiKey: sandbox.apiKey, walletSeed: sandbox.walletSeed,
 *   network: sandbox.network, apiUrl: sandbox.apiUrl, horizonUrl: sandbox.horizonUrl });
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const settings = parseWith(optionsSchema, options, "sandbox options");
  const seed = settings.seed ?? randomInt(2 ** 31);
  const random = createRandom(seed);
  const wallet = settings.walletSeed
    ? Keypair.fromSecret(settings.walletSeed)
    : keypairFrom(random);
  const apiKey = settings.apiKey ?? `sandbox-${random.alphanumeric(32)}`;
  let baseUrl = "";

  const chain = new SandboxChain({
    passphrase: settings.network,
    clock:
      settings.clock ??
      (settings.ledgerIntervalMs === "manual" || settings.ledgerIntervalMs < 1000
        ? "simulated"
        : "wall"),
    ledgerSeconds: settings.ledgerSeconds,
    baseFee: BigInt(settings.baseFeeStroops),
    baseReserve: amountToStroops(parseAmount(settings.baseReserve)),
    oneTransactionPerAccountPerLedger: settings.oneTransactionPerAccountPerLedger,
    startMs: Date.now(),
  });
  chain.createAccount(wallet.publicKey(), amountToStroops(parseAmount(settings.walletBalance)));

  const platform = new SandboxPlatform(
    {
      appWallet: wallet.publicKey(),
      network: settings.network,
      horizonUrl: () => baseUrl,
      incompleteLimit: settings.incompleteLimit,
      linkLagMs: settings.linkLagMs,
      maxCancelledPayments: settings.maxCancelledPayments ?? Number.POSITIVE_INFINITY,
      maxPayments: settings.maxPayments ?? Number.POSITIVE_INFINITY,
      acceptChannelTransactions: settings.acceptChannelTransactions,
    },
    chain,
    random,
  );

  const users: SandboxUser[] = [];
  const addUser = (init: SandboxUserInit = {}): SandboxUserInfo => {
    const spec = parseWith(userInitSchema, init, "sandbox user");
    const n = users.length + 1;
    const uid = spec.uid ?? `user-${n}`;
    if (platform.users.has(uid))
      throw new TypeError(`A sandbox user with uid "${uid}" already exists.`);
    const keypair = spec.wallet === undefined ? keypairFrom(random) : undefined;
    const user: SandboxUser = {
      uid,
      username: spec.username ?? `sandbox_user_${n}`,
      address: spec.wallet === "invalid" ? "GINVALIDADDRESS" : keypair?.publicKey(),
      seed: keypair?.secret(),
      accessToken: `token-${random.alphanumeric(24)}`,
      scopes: spec.scopes ?? ["username", "payments", "wallet_address"],
    };
    const balance = spec.balance ?? "100";
    if (keypair && balance !== "0")
      chain.createAccount(keypair.publicKey(), amountToStroops(parseAmount(balance)));
    platform.users.set(uid, user);
    users.push(user);
    return user;
  };
  const initialUsers =
    typeof settings.users === "number"
      ? Array.from({ length: settings.users }, () => ({}))
      : settings.users;
  for (const init of initialUsers) addUser(init);

  const faults = new FaultInjector(random);
  faults.set(settings.faults);
  const log: RequestLogEntry[] = [];
  const remember = (entry: RequestLogEntry) => {
    if (settings.requestLogLimit === 0) return;
    if (log.length >= settings.requestLogLimit) log.shift();
    log.push(entry);
  };

  const ledgerPayments = (): LedgerPayment[] =>
    chain.transactions().flatMap((tx) =>
      tx.payments.map((p) => ({
        txid: tx.hash,
        memo: tx.memo,
        from: p.from,
        to: p.to,
        amount: stroopsToAmount(p.amount),
        ledger: tx.ledger,
      })),
    );

  const info = (): SandboxInfo => ({
    apiUrl: baseUrl,
    horizonUrl: baseUrl,
    network: settings.network,
    apiKey,
    walletSeed: wallet.secret(),
    walletAddress: wallet.publicKey(),
    users: users.map((u) => ({ uid: u.uid, address: u.address })),
  });

  const closeLedger = async () => {
    const header = chain.closeLedger();
    // Let the held `POST /transactions` answers go out before the caller looks around.
    await new Promise((resolve) => setImmediate(resolve));
    return {
      sequence: header.sequence,
      closedAt: header.closedAt,
      transactions: header.successfulTransactionCount + header.failedTransactionCount,
    };
  };

  const createUserPayment: Sandbox["createUserPayment"] = (args) =>
    structuredClone(
      platform.createU2A(args.uid, args.amount, args.memo, args.metadata ?? {}, chain.now()),
    );

  const routes = {
    pi: platformRoutes({ platform, apiKey, now: () => chain.now() }),
    horizon: horizonRoutes({
      chain,
      baseUrl: () => baseUrl,
      submitTimeoutMs: settings.submitTimeoutMs,
      friendbotAmount: settings.network === "Pi Testnet" ? 10_000n * 10_000_000n : undefined,
    }),
    admin: adminRoutes({
      info,
      addUser,
      payments: () => platform.all(),
      ledgerPayments,
      closeLedger,
      requests: () => log,
      faults,
      createUserPayment,
    }),
  };

  let inFlight = 0;
  const server = createServer((req, res) => {
    inFlight += 1;
    // "close" comes once per response: sent, or its connection dropped.
    res.once("close", () => {
      inFlight -= 1;
    });
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent)
        send(
          res,
          { status: 500, body: { error: "unknown_error", error_message: String(error) } },
          chain.now(),
        );
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sandbox");
    const method = req.method ?? "GET";
    const face = url.pathname.startsWith("/__sandbox")
      ? "admin"
      : url.pathname.startsWith("/v2")
        ? "pi"
        : "horizon";
    const { body, error: bodyError } = await readBody(req);
    const found = matchRoute(routes[face], method, url.pathname);
    if (face === "admin") {
      const reply = found
        ? await found.route.handler({
            method,
            path: url.pathname,
            query: url.searchParams,
            params: found.params,
            headers: req.headers,
            body,
            bodyError,
          })
        : { status: 404, body: { error: "not_found" } };
      send(res, reply, chain.now());
      return;
    }
    const plan: FaultPlan = faults.plan(method, url.pathname);
    const entry: RequestLogEntry = {
      at: chain.now(),
      face,
      method,
      path: url.pathname + url.search,
      status: 0,
      faults: plan.hits,
    };
    const envelope = (body as { tx?: unknown } | undefined)?.tx;
    if (face === "horizon" && method === "POST" && typeof envelope === "string") {
      const decoded = decodeEnvelope(envelope, settings.network);
      if (decoded) Object.assign(entry, decoded);
    }
    remember(entry);
    if (plan.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.latencyMs));

    let reply: SandboxReply;
    if (plan.errorBefore) {
      reply = errorReply(face, plan.errorBefore);
    } else if (!found) {
      reply =
        face === "pi"
          ? { status: 404, body: { error: "not_found", error_message: "No such endpoint." } }
          : problem(
              404,
              "not_found",
              "Resource Missing",
              "The resource at the url requested was not found.",
            );
    } else {
      reply = await found.route.handler({
        method,
        path: url.pathname,
        query: url.searchParams,
        params: found.params,
        headers: req.headers,
        body,
        bodyError,
      });
      if (plan.drop) {
        entry.status = "dropped";
        req.socket.destroy();
        return;
      }
      if (plan.errorAfter) reply = errorReply(face, plan.errorAfter);
      else if (plan.tamper) reply = { ...reply, body: tamperBody(reply.body, plan.tamper) };
    }
    entry.status = reply.status;
    if (!res.destroyed) send(res, reply, chain.now());
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  baseUrl = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${address.port}`;

  const timer =
    settings.ledgerIntervalMs === "manual"
      ? undefined
      : setInterval(() => chain.closeLedger(), settings.ledgerIntervalMs);
  timer?.unref();

  let closed = false;
  return {
    ...info(),
    seed,
    users,
    chain,
    platform,
    info,
    addUser,
    payments: () => platform.all(),
    ledgerPayments,
    closeLedger,
    balance: (address) => {
      const account = chain.accounts.get(address);
      return account ? formatAmount7(account.balance) : undefined;
    },
    createUserPayment,
    requests: () => [...log],
    clearRequests: () => {
      log.length = 0;
    },
    inFlight: () => inFlight,
    setFaults: (rules) => faults.set(rules),
    addFaults: (rules) => faults.add(rules),
    clearFaults: () => faults.clear(),
    configure: (changes) => {
      if (changes.linkLagMs !== undefined) platform.options.linkLagMs = changes.linkLagMs;
      if (changes.incompleteLimit !== undefined)
        platform.options.incompleteLimit = changes.incompleteLimit;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      platform.stop();
      chain.dropPending();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function decodeEnvelope(
  envelope: string,
  passphrase: string,
): { txid: string; maxTime: number } | undefined {
  try {
    const tx = TransactionBuilder.fromXDR(envelope, passphrase);
    const maxTime = "timeBounds" in tx ? Number(tx.timeBounds?.maxTime ?? 0) : 0;
    return { txid: tx.hash().toString("hex"), maxTime };
  } catch {
    return undefined;
  }
}

function keypairFrom(random: Random): Keypair {
  return Keypair.fromRawEd25519Seed(Buffer.from(random.bytes(32)));
}

function errorReply(
  face: "pi" | "horizon",
  { status, body, resultCodes, piError }: FaultError,
): SandboxReply {
  if (face === "pi" && piError) {
    return {
      status,
      body: { error: piError, error_message: `The sandbox was told to answer ${piError}.` },
    };
  }
  if (face === "horizon" && resultCodes) {
    return problem(
      status,
      "transaction_failed",
      "Transaction Failed",
      "The transaction failed when submitted to the stellar network.",
      {
        result_codes: resultCodes,
      },
    );
  }
  if (body === "html")
    return { status, body: htmlErrorPage(status), contentType: "text/html; charset=utf-8" };
  if (face === "pi")
    return {
      status,
      body: { error: "unknown_error", error_message: "An unexpected error occurred." },
    };
  if (status === 504)
    return problem(
      504,
      "timeout",
      "Timeout",
      "Your request timed out before completing.  Please try your request again.",
    );
  return problem(
    status,
    "server_error",
    "Internal Server Error",
    "An error occurred while processing this request.",
  );
}

/** Changes the payment(s) in an answer, as a tampering proxy would; `status` fields merge. */
function tamperBody(body: unknown, patch: Record<string, unknown>): unknown {
  const apply = (payment: Record<string, unknown>) => {
    const copy: Record<string, unknown> = { ...payment };
    for (const [key, value] of Object.entries(patch)) {
      copy[key] =
        key === "status" && typeof value === "object"
          ? { ...(payment.status as object), ...(value as object) }
          : value;
    }
    return copy;
  };
  if (body === null || typeof body !== "object") return body;
  const record = body as Record<string, unknown>;
  if (typeof record.identifier === "string") return apply(record);
  if (Array.isArray(record.incomplete_server_payments)) {
    return {
      ...record,
      incomplete_server_payments: record.incomplete_server_payments.map((p) =>
        apply(p as Record<string, unknown>),
      ),
    };
  }
  if (record.payment && typeof record.payment === "object")
    return { ...record, payment: apply(record.payment as Record<string, unknown>) };
  return body;
}

interface AdminContext {
  info: () => SandboxInfo;
  addUser: (init?: SandboxUserInit) => SandboxUserInfo;
  payments: () => PaymentDTO[];
  ledgerPayments: () => LedgerPayment[];
  closeLedger: () => Promise<unknown>;
  requests: () => RequestLogEntry[];
  faults: FaultInjector;
  createUserPayment: Sandbox["createUserPayment"];
}

/**
 * `/__sandbox/…`: the admin endpoints, so that a sandbox started by the command line can
 * be steered from another process (faults, ledgers, users). Never subject to faults.
 */
function adminRoutes(ctx: AdminContext): Route[] {
  const guard =
    (fn: (body: unknown) => unknown) =>
    async (request: { body: unknown }): Promise<SandboxReply> => {
      try {
        return { status: 200, body: (await fn(request.body)) ?? { ok: true } };
      } catch (error) {
        if (error instanceof PiFailure) return { status: error.status, body: error.body() };
        return {
          status: 400,
          body: { error: "invalid_arguments", error_message: (error as Error).message },
        };
      }
    };
  const rulesOf = (body: unknown) => {
    const rules = (body as { rules?: unknown } | undefined)?.rules;
    return z.array(faultRuleSchema).parse(rules);
  };
  return [
    { method: "GET", pattern: "/__sandbox", handler: guard(() => ctx.info()) },
    { method: "GET", pattern: "/__sandbox/payments", handler: guard(() => ctx.payments()) },
    {
      method: "GET",
      pattern: "/__sandbox/ledger-payments",
      handler: guard(() => ctx.ledgerPayments()),
    },
    { method: "GET", pattern: "/__sandbox/requests", handler: guard(() => ctx.requests()) },
    { method: "POST", pattern: "/__sandbox/ledgers", handler: guard(() => ctx.closeLedger()) },
    {
      method: "POST",
      pattern: "/__sandbox/users",
      handler: guard((body) => {
        const {
          seed: _seed,
          accessToken: _token,
          ...user
        } = ctx.addUser((body ?? {}) as SandboxUserInit);
        return user;
      }),
    },
    {
      method: "POST",
      pattern: "/__sandbox/user-payments",
      handler: guard((body) =>
        ctx.createUserPayment(body as Parameters<Sandbox["createUserPayment"]>[0]),
      ),
    },
    {
      method: "PUT",
      pattern: "/__sandbox/faults",
      handler: guard((body) => {
        ctx.faults.set(rulesOf(body));
      }),
    },
    {
      method: "POST",
      pattern: "/__sandbox/faults",
      handler: guard((body) => {
        ctx.faults.add(rulesOf(body));
      }),
    },
    {
      method: "DELETE",
      pattern: "/__sandbox/faults",
      handler: guard(() => {
        ctx.faults.clear();
      }),
    },
  ];
}
