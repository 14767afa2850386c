import {
  Account,
  Asset,
  Horizon,
  Keypair,
  Memo,
  Operation,
  type Transaction,
  TransactionBuilder,
} from "@stellar/stellar-sdk";
import type { Sandbox } from "../../src/sandbox/index.js";

/** stellar-sdk's own Horizon client, pointed at the sandbox. */
export function horizonOf(sandbox: Sandbox): Horizon.Server {
  return new Horizon.Server(sandbox.horizonUrl, { allowHttp: true });
}

/** Builds and signs a payment the way the official SDKs do: load account, base fee, time bounds. */
export async function signedPayment(
  sandbox: Sandbox,
  options: {
    to: string;
    amount: string;
    memo?: string;
    seed?: string;
    passphrase?: string;
    fee?: string;
    timeoutSeconds?: number;
    sequence?: string;
  },
): Promise<Transaction> {
  const horizon = horizonOf(sandbox);
  const keypair = Keypair.fromSecret(options.seed ?? sandbox.walletSeed);
  const loaded = await horizon.loadAccount(keypair.publicKey());
  // The builder uses the account's sequence + 1; a forced `sequence` is that account sequence.
  const account =
    options.sequence === undefined ? loaded : new Account(keypair.publicKey(), options.sequence);
  const fee = options.fee ?? String(await horizon.fetchBaseFee());
  const timebounds = await horizon.fetchTimebounds(options.timeoutSeconds ?? 180);
  let builder = new TransactionBuilder(account, {
    fee,
    networkPassphrase: options.passphrase ?? sandbox.network,
    timebounds,
  }).addOperation(
    Operation.payment({ destination: options.to, asset: Asset.native(), amount: options.amount }),
  );
  if (options.memo !== undefined) builder = builder.addMemo(Memo.text(options.memo));
  const tx = builder.build();
  tx.sign(keypair);
  return tx;
}

/** Submits through stellar-sdk and closes ledgers until Horizon answers. */
export async function submitAndClose(sandbox: Sandbox, tx: Transaction): Promise<unknown> {
  const horizon = horizonOf(sandbox);
  const answer = horizon.submitTransaction(tx, { skipMemoRequiredCheck: true }).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  let settled = false;
  void answer.then(() => {
    settled = true;
  });
  for (let i = 0; i < 100 && !settled; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (sandbox.chain.pendingCount() > 0) await sandbox.closeLedger();
  }
  const result = await answer;
  if (!result.ok) throw result.error;
  return result.value;
}

/** Horizon's result codes from a stellar-sdk submission error. */
export function resultCodesOf(
  error: unknown,
): { transaction: string; operations?: string[] } | undefined {
  return (
    error as {
      response?: {
        data?: { extras?: { result_codes?: { transaction: string; operations?: string[] } } };
      };
    }
  ).response?.data?.extras?.result_codes;
}

/**
 * Queues `count` tiny payments from the wallet (the app's other business) straight into the
 * sandbox chain and closes one ledger: the wallet's history grows by `count` transactions
 * newer than anything before.
 */
export async function fillWalletHistory(
  sandbox: Sandbox,
  count: number,
  to: string,
): Promise<void> {
  const wallet = Keypair.fromSecret(sandbox.walletSeed);
  const account = sandbox.chain.accounts.get(wallet.publicKey())!;
  const source = new Account(wallet.publicKey(), account.sequence.toString());
  const maxTime = Math.floor(sandbox.chain.now() / 1000) + 600;
  for (let i = 0; i < count; i++) {
    const tx = new TransactionBuilder(source, {
      fee: "100000",
      networkPassphrase: sandbox.network,
      timebounds: { minTime: 0, maxTime },
    })
      .addOperation(
        Operation.payment({ destination: to, asset: Asset.native(), amount: "0.0000001" }),
      )
      .addMemo(Memo.text(`filler-${i}`))
      .build();
    tx.sign(wallet);
    const outcome = sandbox.chain.submit(tx.toEnvelope().toXDR("base64"));
    if (outcome.kind !== "pending")
      throw new Error(`filler ${i} refused: ${JSON.stringify(outcome)}`);
  }
  sandbox.chain.closeLedger();
  await new Promise((resolve) => setImmediate(resolve));
}
