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
import { ChainError, ValidationError } from "../domain/errors.js";
import { isWalletAddress, parsePaymentId, parseTxid } from "../domain/ids.js";
import { NETWORKS, type NetworkName } from "../domain/payment-dto.js";
import { parseWith } from "../domain/validation.js";
import { ChannelPool } from "./channel-pool.js";
import { classifyHorizonFailure, horizonReadError } from "./map-horizon-error.js";
import type {
  ChainTransaction,
  EnvelopeFate,
  PaymentTransactionRequest,
  PiChain,
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
  /** A Horizon client to use instead of one made from `horizonUrl`. */
  horizon?: Horizon.Server;
  /** Fee per operation in stroops. @default 100000 (Pi's base fee, 0.01 Pi) */
  feeStroops?: number;
  /**
   * Seconds a transaction stays valid after the chain's current time. After an unknown
   * outcome, a new envelope can be built only once this has passed, so shorter means
   * faster recovery, longer means more patience with slow ledgers. @default 60
   */
  timeBoundSeconds?: number;
  /** Recent wallet transactions scanned when looking a payment up by memo. @default 200 */
  historyLimit?: number;
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
 * Creates the Pi blockchain adapter for one app wallet, on @stellar/stellar-sdk.
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
  const passphrase = settings.network;
  let networkChecked: Promise<void> | undefined;

  /** Once per adapter: a Testnet key against Mainnet's Horizon must not sign anything. */
  const checkNetwork = () => {
    networkChecked ??= (async () => {
      let root: { network_passphrase?: string };
      try {
        root = (await horizon.root()) as { network_passphrase?: string };
      } catch (error) {
        networkChecked = undefined;
        throw horizonReadError("reading its root", error);
      }
      if (root.network_passphrase !== passphrase) {
        throw new ChainError(
          `Horizon at ${horizonUrl} serves "${root.network_passphrase}", not "${passphrase}". Check the network and the Horizon URL.`,
          "WRONG_NETWORK",
          {},
        );
      }
    })();
    return networkChecked;
  };

  const loadAccount = async (address: string) => {
    try {
      return await horizon.loadAccount(address);
    } catch (error) {
      if (classifyHorizonFailure(error).kind === "not_found") {
        throw new ChainError(
          `The account ${address} does not exist on ${passphrase}: fund it before paying from it.`,
          "ACCOUNT_NOT_FOUND",
          { status: 404 },
        );
      }
      throw horizonReadError(`loading account ${address}`, error);
    }
  };

  const toChainTransaction = (record: Record<string, unknown>): ChainTransaction => {
    const envelope = String(record.envelope_xdr);
    const tx = TransactionBuilder.fromXDR(envelope, passphrase) as Transaction;
    const ledger =
      typeof record.ledger_attr === "number" ? record.ledger_attr : Number(record.ledger);
    return {
      txid: String(record.hash),
      ledger,
      successful: record.successful === true,
      memo: record.memo === undefined ? undefined : String(record.memo),
      source: String(record.source_account),
      sequence: String(record.source_account_sequence),
      payments: tx.operations.flatMap((op) =>
        op.type === "payment" && op.asset.isNative()
          ? [{ from: op.source ?? tx.source, to: op.destination, amount: parseAmount(op.amount) }]
          : [],
      ),
    };
  };

  const getTransaction = async (txid: string): Promise<ChainTransaction | undefined> => {
    const hash = parseTxid(txid);
    try {
      const record = await horizon.transactions().transaction(hash).call();
      return toChainTransaction(record as unknown as Record<string, unknown>);
    } catch (error) {
      if (classifyHorizonFailure(error).kind === "not_found") return undefined;
      throw horizonReadError(`looking up transaction ${hash}`, error);
    }
  };

  const latestLedger = async () => {
    try {
      const page = await horizon.ledgers().order("desc").limit(1).call();
      const [ledger] = page.records;
      if (!ledger) throw new ChainError("Horizon returned no ledger.", "HORIZON_BAD_RESPONSE", {});
      return {
        sequence: Number(ledger.sequence),
        closedAt: Math.floor(Date.parse(ledger.closed_at) / 1000),
      };
    } catch (error) {
      if (error instanceof ChainError) throw error;
      throw horizonReadError("reading the latest ledger", error);
    }
  };

  /** Builds and signs the payment with `signer`'s sequence: the wallet's, or a channel's. */
  const buildFrom = async (
    signer: Keypair,
    to: string,
    amount: Amount,
    paymentId: string,
  ): Promise<SignedTransaction> => {
    const account = await loadAccount(signer.publicKey());
    // The time bound comes from Horizon's clock (its Date header), not ours: the ledger
    // checks it against its own close time.
    let timebounds: { minTime: number; maxTime: number };
    try {
      timebounds = await horizon.fetchTimebounds(settings.timeBoundSeconds);
    } catch (error) {
      throw horizonReadError("reading the chain's time", error);
    }
    const tx = new TransactionBuilder(new Account(signer.publicKey(), account.sequence), {
      fee: String(settings.feeStroops),
      networkPassphrase: passphrase,
      timebounds: { minTime: 0, maxTime: timebounds.maxTime },
    })
      .addOperation(
        Operation.payment({
          destination: to,
          asset: Asset.native(),
          amount,
          // With a channel, the wallet still pays: it is the operation's source.
          ...(signer === keypair ? {} : { source: walletAddress }),
        }),
      )
      .addMemo(Memo.text(paymentId))
      .build();
    tx.sign(...(signer === keypair ? [keypair] : [signer, keypair]));
    const txid = tx.hash().toString("hex");
    sources.assign(signer.publicKey(), txid);
    return {
      envelope: tx.toEnvelope().toXDR("base64"),
      txid,
      source: signer.publicKey(),
      sequence: tx.sequence,
      maxTime: timebounds.maxTime,
    };
  };

  const submitOnce = async (signed: SignedTransaction): Promise<SubmitOutcome> => {
    const tx = TransactionBuilder.fromXDR(signed.envelope, passphrase) as Transaction;
    const txid = tx.hash().toString("hex");
    try {
      const result = await horizon.submitTransaction(tx, { skipMemoRequiredCheck: true });
      return { status: "applied", txid, ledger: Number(result.ledger) };
    } catch (error) {
      const failure = classifyHorizonFailure(error);
      if (failure.kind === "rejected" && failure.resultCodes.transaction !== "tx_bad_seq") {
        return {
          status: "failed",
          txid,
          resultCodes: failure.resultCodes,
          inLedger: failure.resultCodes.transaction === "tx_failed",
        };
      }
      // tx_bad_seq may be an older Horizon's answer for an applied transaction, and an
      // unknown outcome may be a landed one: the hash decides.
      const found = await getTransaction(txid).catch(() => undefined);
      if (found?.successful) return { status: "applied", txid, ledger: found.ledger };
      if (found)
        return {
          status: "failed",
          txid,
          resultCodes: { transaction: "tx_failed" },
          inLedger: true,
        };
      if (failure.kind === "rejected")
        return { status: "failed", txid, resultCodes: failure.resultCodes, inLedger: false };
      return {
        status: "unknown",
        txid,
        reason: failure.kind === "unknown" ? failure.reason : "not found",
      };
    }
  };

  const fateOf = async (signed: SignedTransaction): Promise<EnvelopeFate> => {
    // Order matters (DESIGN P3): read what makes the envelope dead first, then look for
    // its hash. A transaction that landed before the first read is found by the second;
    // one that did not can no longer land once the first read says so.
    const ledger = await latestLedger();
    const account = await loadAccount(signed.source);
    const found = await getTransaction(signed.txid);
    if (found)
      return found.successful
        ? { status: "landed", transaction: found }
        : { status: "dead", reason: "failed_in_ledger" };
    if (ledger.closedAt > signed.maxTime) return { status: "dead", reason: "expired" };
    if (BigInt(account.sequence) >= BigInt(signed.sequence))
      return { status: "dead", reason: "sequence_used" };
    return { status: "pending" };
  };

  return {
    name: "pi-chain",
    network: settings.network,
    horizonUrl,
    walletAddress,

    async buildPayment(request: PaymentTransactionRequest): Promise<SignedTransaction> {
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
      const amount: Amount = parseAmount(request.amount);
      await checkNetwork();
      const signer = await sources.take();
      try {
        return await buildFrom(signer, request.to, amount, paymentId);
      } catch (error) {
        sources.giveBack(signer.publicKey());
        throw error;
      }
    },

    discard(signed: SignedTransaction) {
      sources.settle(signed.txid);
    },

    async submit(signed: SignedTransaction): Promise<SubmitOutcome> {
      const outcome = await submitOnce(signed);
      if (outcome.status !== "unknown") sources.settle(outcome.txid);
      return outcome;
    },

    async fate(signed: SignedTransaction): Promise<EnvelopeFate> {
      const fate = await fateOf(signed);
      if (fate.status !== "pending") sources.settle(signed.txid);
      return fate;
    },

    getTransaction,

    async findPaymentTransaction(paymentId, findOptions = {}) {
      const id = parsePaymentId(paymentId);
      const limit = findOptions.limit ?? settings.historyLimit;
      try {
        let page = await horizon
          .transactions()
          .forAccount(walletAddress)
          .order("desc")
          .limit(Math.min(limit, 200))
          .call();
        let seen = 0;
        while (page.records.length > 0 && seen < limit) {
          for (const record of page.records) {
            seen += 1;
            if (record.memo === id && record.successful) {
              return toChainTransaction(record as unknown as Record<string, unknown>);
            }
          }
          if (page.records.length < Math.min(limit, 200)) break;
          page = await page.next();
        }
        return undefined;
      } catch (error) {
        if (classifyHorizonFailure(error).kind === "not_found") return undefined;
        throw horizonReadError(`searching the wallet's transactions for payment ${id}`, error);
      }
    },

    latestLedger,

    async account() {
      const account = await loadAccount(walletAddress);
      const native = account.balances.find((b) => b.asset_type === "native");
      return { balance: native?.balance ?? "0.0000000", sequence: account.sequence };
    },

    close: async () => {},
  };
}
