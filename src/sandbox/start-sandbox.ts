import { randomInt } from "node:crypto";
import { Keypair } from "@stellar/stellar-sdk";
import { amountToStroops, formatAmount7, parseAmount, stroopsToAmount } from "../domain/amount.js";
import { parseWith } from "../domain/validation.js";
import { adminRoutes } from "./admin-routes.js";
import { SandboxChain } from "./chain.js";
import { FaultInjector } from "./faults.js";
import { createFunding } from "./funding.js";
import { horizonRoutes } from "./horizon-routes.js";
import { SandboxPlatform } from "./platform.js";
import { platformRoutes } from "./platform-routes.js";
import { createRandom } from "./random.js";
import { createRequestLog } from "./request-log.js";
import { type SandboxOptions, sandboxOptionsSchema } from "./sandbox-options.js";
import { createSandboxServer } from "./sandbox-server.js";
import type { LedgerPayment, Sandbox, SandboxInfo } from "./types.js";
import { createUserRegistry, keypairFrom } from "./users.js";

/**
 * Starts a local Pi Platform API and Pi blockchain (Horizon) over HTTP on loopback.
 *
 * @example
 * const sandbox = await startSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
 * const pi = new PiNetwork({ apiKey: sandbox.apiKey, walletSeed: sandbox.walletSeed,
 *   network: sandbox.network, apiUrl: sandbox.apiUrl, horizonUrl: sandbox.horizonUrl });
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const settings = parseWith(sandboxOptionsSchema, options, "sandbox options", "INVALID_OPTIONS");
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
      linkForeignTransactions: settings.linkForeignTransactions,
    },
    chain,
    random,
  );

  const { users, addUser } = createUserRegistry({ chain, platform, random });
  const initialUsers =
    typeof settings.users === "number"
      ? Array.from({ length: settings.users }, () => ({}))
      : settings.users;
  for (const init of initialUsers) addUser(init);

  const faults = new FaultInjector(random);
  faults.set(settings.faults);
  const log = createRequestLog(settings.requestLogLimit);

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

  const closeLedger: Sandbox["closeLedger"] = async () => {
    const header = chain.closeLedger();
    // Let the held `POST /transactions` answers go out before the caller looks around.
    await new Promise((resolve) => setImmediate(resolve));
    return {
      sequence: header.sequence,
      closedAt: header.closedAt,
      transactions: header.successfulTransactionCount + header.failedTransactionCount,
    };
  };

  const funding = createFunding(chain, wallet.publicKey());

  const createUserPayment: Sandbox["createUserPayment"] = (args) =>
    structuredClone(
      platform.createU2A(args.uid, args.amount, args.memo, args.metadata ?? {}, chain.now()),
    );

  const server = createSandboxServer({
    routes: {
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
        requests: () => log.entries(),
        faults,
        createUserPayment,
        fund: funding.fund,
        setBalance: funding.setBalance,
      }),
    },
    faults,
    log,
    chain,
    passphrase: settings.network,
  });
  baseUrl = await server.listen(settings.port, settings.host);

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
    fund: (address, amount) => funding.fund({ address, amount }).balance,
    setBalance: (address, amount) => funding.setBalance({ address, amount }).balance,
    createUserPayment,
    requests: () => [...log.entries()],
    clearRequests: () => log.clear(),
    inFlight: () => server.inFlight(),
    setFaults: (rules) => faults.set(rules),
    addFaults: (rules) => faults.add(rules),
    clearFaults: () => faults.clear(),
    configure: (changes) => {
      if (changes.linkLagMs !== undefined) platform.options.linkLagMs = changes.linkLagMs;
      if (changes.incompleteLimit !== undefined)
        platform.options.incompleteLimit = changes.incompleteLimit;
      if (changes.linkForeignTransactions !== undefined)
        platform.options.linkForeignTransactions = changes.linkForeignTransactions;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      platform.stop();
      chain.dropPending();
      await server.close();
    },
  };
}
