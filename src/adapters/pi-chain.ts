import {
  Account,
  Asset,
  Horizon,
  Keypair,
  Memo,
  Operation,
  StrKey,
  type Transaction,
  TransactionBuilder,
} from "@stellar/stellar-sdk";
import { z } from "zod";
import { type Amount, parseAmount } from "../domain/amount.js";
import { ChainError, type ResultCodes, ValidationError } from "../domain/errors.js";
import { isWalletAddress, parsePaymentId, parseTxid } from "../domain/ids.js";
import { NETWORKS, type NetworkName } from "../domain/payment-dto.js";
import { parseWith } from "../domain/validation.js";
import { toChainTransaction } from "./chain-transaction.js";
import { ChannelPool } from "./channel-pool.js";
import { envelopeFate } from "./envelope-fate.js";
import { searchPayment } from "./history-search.js";
import { type AccountState, createHorizonReader, type Viewed } from "./horizon-reader.js";
import { classifyHorizonFailure } from "./map-horizon-error.js";
import type {
  ChainTransaction,
  EnvelopeFate,
  ExpectedPayment,
  PaymentTransactionRequest,
  PiChain,
  PreparedPayment,
  PrepareOptions,
  SignedTransaction,
  SubmitOutcome,
} from "./types.js";

/** Horizon of each Pi network (PI-PLATFORM.md §2). */
export const HORIZON_URLS: Record<NetworkName, string> = {
  "Pi Network": "https://api.mainnet.minepi.com",
  "Pi Testnet": "https://api.testnet.minepi.com",
};

/** Options of {@link createPiChain}. */
export interface PiChainOptions {
  /** "Pi Network" (Mainnet) or "Pi Testnet"; also the network passphrase. */
  network: NetworkName;
  /** The app wallet's secret seed (S…). Kept in memory only; never logged or put in an error. */
  walletSeed: string;
  /** @default Pi's Horizon for `network` */
  horizonUrl?: string;
  /** A Horizon client to submit through instead of one made from `horizonUrl` (reads go to `horizonUrl`). */
  horizon?: Horizon.Server;
  /** Fee per operation in stroops. @default 100000 (Pi's base fee, 0.01 Pi) */
  feeStroops?: number;
  /**
   * Seconds a transaction stays valid after the chain's current time. After an unknown
   * outcome, a new envelope can be built only once this has passed, so shorter means
   * faster recovery, longer means more patience with slow ledgers. @default 60
   */
  timeBoundSeconds?: number;
  /** Recent wallet transactions read when looking a payment up and its creation time is not known. @default 200 */
  historyLimit?: number;
  /** Pages of 200 transactions a history search reads at most before failing (and being retried). @default 50 */
  historyMaxPages?: number;
  /**
   * Seeds of channel accounts: funded accounts that lend their sequence numbers and pay the
   * fee, so that the wallet (still the payment's source) can have several transactions per
   * ledger. Off by default: whether Pi verifies such transactions is not known (the sandbox
   * models both answers). Give each process of a fleet its own channels. @default []
   */
  channels?: string[];
}

const optionsSchema = z.strictObject({
  network: z.enum(NETWORKS, {
    error: () => `must be one of ${NETWORKS.map((n) => `"${n}"`).join(", ")}`,
  }),
  walletSeed: z.custom<string>(
    (v) => typeof v === "string" && StrKey.isValidEd25519SecretSeed(v),
    // The message never repeats the value: it is a secret.
    "must be the app wallet's secret seed (56 characters starting with S); the value given is not one",
  ),
  horizonUrl: z.url({ protocol: /^https?$/ }).optional(),
  horizon: z.instanceof(Horizon.Server).optional(),
  feeStroops: z.number().int().min(1).default(100_000),
  timeBoundSeconds: z.number().int().min(5).max(86_400).default(60),
  historyLimit: z.number().int().min(1).max(10_000).default(200),
  historyMaxPages: z.number().int().min(1).max(10_000).default(50),
  channels: z
    .array(
      z.custom<string>(
        (v) => typeof v === "string" && StrKey.isValidEd25519SecretSeed(v),
        "each must be a channel account's secret seed; the value given is not one",
      ),
    )
    .default([]),
});

/**
 * Creates the Pi blockchain adapter for one app wallet: envelopes built and signed with
 * @stellar/stellar-sdk and submitted through its Horizon client; reads through a reader
 * that keeps each answer's `Latest-Ledger`, so that nothing is concluded from a lagging
 * instance (docs/crash-recovery.md says which evidence each decision rests on).
 *
 * @example
 * const chain = createPiChain({ network: "Pi Testnet", walletSeed: process.env.PI_WALLET_SEED! });
 */
export function createPiChain(options: PiChainOptions): PiChain {
  const settings = parseWith(optionsSchema, options, "Pi chain options", "INVALID_OPTIONS");
  const keypair = Keypair.fromSecret(settings.walletSeed);
  const channels = new ChannelPool(
    settings.channels.map((seed) => Keypair.fromSecret(seed)),
    // A lent channel is freed when its transaction's outcome is known, or after this.
    settings.timeBoundSeconds * 2000,
  );
  // Sequence numbers come from the channels, or else from the wallet itself, lent to one
  // envelope at a time: concurrent payouts of this process queue for it instead of
  // colliding on one sequence number and dying in turn.
  const sources =
    channels.size > 0 ? channels : new ChannelPool([keypair], settings.timeBoundSeconds * 2000);
  if (
    channels.has(keypair.publicKey()) ||
    new Set(settings.channels).size !== settings.channels.length
  ) {
    throw new ValidationError(
      "Invalid Pi chain options: channels must be distinct accounts, other than the wallet.",
      [{ path: "channels", message: "must be distinct accounts, other than the wallet" }],
      "INVALID_OPTIONS",
    );
  }
  const walletAddress = keypair.publicKey();
  const horizonUrl = (settings.horizonUrl ?? HORIZON_URLS[settings.network]).replace(/\/+$/, "");
  const horizon =
    settings.horizon ??
    new Horizon.Server(horizonUrl, { allowHttp: horizonUrl.startsWith("http://") });
  const reader = createHorizonReader({ url: horizonUrl });
  const passphrase = settings.network;
  const limits = { recent: settings.historyLimit, maxPages: settings.historyMaxPages };
  let networkChecked: Promise<void> | undefined;

  /** Once per adapter: a Testnet key against Mainnet's Horizon must not sign anything. */
  const checkNetwork = () => {
    networkChecked ??= (async () => {
      const root = await reader.root().catch((error: unknown) => {
        networkChecked = undefined;
        throw error;
      });
      if (root.value.networkPassphrase !== passphrase) {
        throw new ChainError(
          `Horizon at ${horizonUrl} serves "${root.value.networkPassphrase}", not "${passphrase}". Check the network and the Horizon URL.`,
          "WRONG_NETWORK",
          {},
        );
      }
    })();
    return networkChecked;
  };

  const readAccount = async (address: string): Promise<Viewed<AccountState>> => {
    const viewed = await reader.account(address);
    if (viewed.value === undefined) {
      throw new ChainError(
        `The account ${address} does not exist on ${passphrase} (as of ledger ${viewed.asOfLedger ?? "unknown"}): fund it before paying from it.`,
        "ACCOUNT_NOT_FOUND",
        { status: 404 },
      );
    }
    return viewed as Viewed<AccountState>;
  };

  const getTransaction = async (txid: string): Promise<ChainTransaction | undefined> => {
    const found = (await reader.transaction(parseTxid(txid))).value;
    return found && toChainTransaction(found, passphrase);
  };

  const checkRequest = (request: PaymentTransactionRequest) => {
    const paymentId = parsePaymentId(request.paymentId);
    if (Buffer.byteLength(paymentId) > 28) {
      throw new ChainError(
        `Payment id ${paymentId} is longer than a text memo (28 bytes).`,
        "MEMO_TOO_LONG",
        {},
      );
    }
    if (!isWalletAddress(request.to)) {
      throw new ChainError(
        `The recipient ${String(request.to)} is not a wallet address.`,
        "INVALID_DESTINATION",
        {},
      );
    }
    return { paymentId, to: request.to, amount: parseAmount(request.amount) as Amount };
  };

  /** Signs the payment with `signer`'s sequence (the wallet's, or a channel's) as `account` shows it. */
  const sign = (
    signer: Keypair,
    account: Viewed<AccountState>,
    request: { paymentId: string; to: string; amount: Amount },
  ): SignedTransaction => {
    // The time bound comes from Horizon's clock (its Date header), not ours: the ledger
    // checks it against its own close time.
    const now = account.serverTime ?? Math.floor(Date.now() / 1000);
    const maxTime = now + settings.timeBoundSeconds;
    const tx = new TransactionBuilder(new Account(signer.publicKey(), account.value.sequence), {
      fee: String(settings.feeStroops),
      networkPassphrase: passphrase,
      timebounds: { minTime: 0, maxTime },
    })
      .addOperation(
        Operation.payment({
          destination: request.to,
          asset: Asset.native(),
          amount: request.amount,
          // With a channel, the wallet still pays: it is the operation's source.
          ...(signer === keypair ? {} : { source: walletAddress }),
        }),
      )
      .addMemo(Memo.text(request.paymentId))
      .build();
    tx.sign(...(signer === keypair ? [keypair] : [signer, keypair]));
    const txid = tx.hash().toString("hex");
    sources.assign(signer.publicKey(), txid);
    return {
      envelope: tx.toEnvelope().toXDR("base64"),
      txid,
      source: signer.publicKey(),
      sequence: tx.sequence,
      maxTime,
    };
  };

  /** Lends a source account for one build; gives it back if the build ends without an envelope. */
  const withSource = async <T>(build: (signer: Keypair) => Promise<T>): Promise<T> => {
    await checkNetwork();
    const signer = await sources.lend();
    try {
      return await build(signer);
    } catch (error) {
      sources.giveBack({ address: signer.publicKey() });
      throw error;
    }
  };

  const submitOnce = async (signed: SignedTransaction): Promise<SubmitOutcome> => {
    const tx = TransactionBuilder.fromXDR(signed.envelope, passphrase) as Transaction;
    const txid = tx.hash().toString("hex");
    try {
      // stellar-sdk's memo-required check (SEP-29) runs, and costs nothing: our memo is set.
      const result = (await horizon.submitTransaction(tx)) as unknown as Record<string, unknown>;
      const ledger = Number(result?.ledger);
      // A 200 that does not say "this transaction, successful, in that ledger" proves nothing.
      if (result?.hash === txid && result.successful !== false && Number.isInteger(ledger))
        return { status: "applied", txid, ledger };
      return lookedUp(txid, "an answer of the wrong shape", undefined);
    } catch (error) {
      const failure = classifyHorizonFailure(error);
      const code = failure.kind === "rejected" ? failure.resultCodes.transaction : undefined;
      if (failure.kind === "rejected" && code !== "tx_bad_seq" && code !== "tx_failed") {
        return { status: "failed", txid, resultCodes: failure.resultCodes, inLedger: false };
      }
      // tx_bad_seq may be an older Horizon's answer for an applied transaction, tx_failed is
      // only a claim that it is in a ledger, and an unknown outcome may be a landed one: the
      // hash decides, when it is found.
      const outcome = await lookedUp(
        txid,
        failure.kind === "unknown" ? failure.reason : "not found",
        failure.kind === "rejected" ? failure.resultCodes : undefined,
      );
      // Not found: refused, and perhaps not dead (an earlier send may be in flight).
      if (outcome.status === "unknown" && failure.kind === "rejected")
        return { status: "failed", txid, resultCodes: failure.resultCodes, inLedger: false };
      return outcome;
    }
  };

  /** Positive evidence only: a transaction found is its outcome; not found is still unknown. */
  const lookedUp = async (
    txid: string,
    reason: string,
    answered: ResultCodes | undefined,
  ): Promise<SubmitOutcome> => {
    const found = await getTransaction(txid).catch(() => undefined);
    if (found?.successful) return { status: "applied", txid, ledger: found.ledger };
    if (found) {
      const resultCodes =
        answered?.transaction === "tx_failed" ? answered : { transaction: "tx_failed" };
      return { status: "failed", txid, resultCodes, inLedger: true };
    }
    return { status: "unknown", txid, reason };
  };

  const fateContext = { passphrase, wallet: walletAddress, maxPages: settings.historyMaxPages };
  const searchContext = { passphrase, wallet: walletAddress, limits };

  return {
    name: "pi-chain",
    network: settings.network,
    horizonUrl,
    walletAddress,
    timeBoundSeconds: settings.timeBoundSeconds,

    async buildPayment(request: PaymentTransactionRequest): Promise<SignedTransaction> {
      const checked = checkRequest(request);
      return withSource(async (signer) =>
        sign(signer, await readAccount(signer.publicKey()), checked),
      );
    },

    async preparePayment(
      expected: ExpectedPayment,
      prepare: PrepareOptions = {},
    ): Promise<PreparedPayment> {
      const checked = checkRequest(expected);
      if (prepare.notBefore !== undefined) {
        const latest = await reader.latestLedger();
        if (latest.value.closedAt <= prepare.notBefore) {
          throw new ChainError(
            `Payment ${checked.paymentId} may have an envelope in flight from another process (it was adopted): nothing is built before ledger time passes ${new Date(prepare.notBefore * 1000).toISOString()} (the chain is at ${new Date(latest.value.closedAt * 1000).toISOString()}).`,
            "EARLIER_ENVELOPE_MAY_LAND",
            { retryable: true },
          );
        }
      }
      return withSource(async (signer) => {
        const account = await readAccount(signer.publicKey());
        // Every landed payment from the wallet changed the wallet's account: a history that
        // holds its last change holds them all, up to the account read the build uses.
        const wallet = signer === keypair ? account : await readAccount(walletAddress);
        const search = await searchPayment(
          reader,
          searchContext,
          { ...expected, ...checked },
          wallet.value.lastModifiedLedger,
        );
        if (search.found) {
          sources.giveBack({ address: signer.publicKey() });
          return { status: "landed", transaction: search.found, ignored: search.ignored };
        }
        return {
          status: "built",
          transaction: sign(signer, account, checked),
          ignored: search.ignored,
        };
      });
    },

    giveBack(signed: SignedTransaction) {
      sources.giveBack({ txid: signed.txid });
    },

    async submit(signed: SignedTransaction): Promise<SubmitOutcome> {
      const outcome = await submitOnce(signed);
      if (outcome.status !== "unknown") sources.giveBack({ txid: outcome.txid });
      return outcome;
    },

    async fate(signed: SignedTransaction): Promise<EnvelopeFate> {
      const fate = await envelopeFate(reader, fateContext, signed);
      if (fate.status === "landed" || fate.status === "dead")
        sources.giveBack({ txid: signed.txid });
      return fate;
    },

    getTransaction,

    async findPaymentTransaction(expected) {
      const checked = checkRequest(expected);
      const wallet = await readAccount(walletAddress);
      return searchPayment(
        reader,
        searchContext,
        { ...expected, ...checked },
        wallet.value.lastModifiedLedger,
      );
    },

    async latestLedger() {
      return (await reader.latestLedger()).value;
    },

    async account() {
      const account = await readAccount(walletAddress);
      return {
        balance: account.value.nativeBalance ?? "0.0000000",
        sequence: account.value.sequence,
      };
    },

    close: async () => {},
  };
}
