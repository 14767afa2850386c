import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { createPiChain, createPiPlatform } from "../../src/adapters/index.js";
import { isValidationError, parseAmount, parsePaymentArgs } from "../../src/domain/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";

function fundChannels(sandbox: Sandbox, count: number): string[] {
  return Array.from({ length: count }, () => {
    const channel = Keypair.random();
    sandbox.chain.createAccount(channel.publicKey(), 100n * 10_000_000n);
    return channel.secret();
  });
}

describe("channel accounts", () => {
  test("four payments through four channels land in one ledger under the one-per-account rule; the wallet pays", async () => {
    const sandbox = await testSandbox({
      users: 4,
      oneTransactionPerAccountPerLedger: true,
      incompleteLimit: "user",
    });
    const channels = fundChannels(sandbox, 4);
    const chain = createPiChain({
      network: sandbox.network,
      walletSeed: sandbox.walletSeed,
      horizonUrl: sandbox.horizonUrl,
      channels,
    });
    const built = await Promise.all(
      sandbox.users.map((user, i) =>
        chain.buildPayment({
          paymentId: `C${i}`.padEnd(28, "x"),
          to: user.address!,
          amount: parseAmount("1"),
        }),
      ),
    );
    expect(new Set(built.map((tx) => tx.source)).size).toBe(4);
    for (const tx of built) expect(tx.source).not.toBe(chain.walletAddress);
    const submitted = Promise.all(built.map((tx) => chain.submit(tx)));
    await eventually(() => sandbox.chain.pendingCount() === 4);
    expect((await sandbox.closeLedger()).transactions).toBe(4);
    expect((await submitted).map((o) => o.status)).toEqual([
      "applied",
      "applied",
      "applied",
      "applied",
    ]);
    expect(sandbox.ledgerPayments().every((p) => p.from === chain.walletAddress)).toBe(true);
    expect(sandbox.balance(chain.walletAddress)).toBe("99996.0000000");
  });

  test("whether Pi verifies a channel transaction is unknown: the sandbox models both answers", async () => {
    for (const accept of [true, false]) {
      const sandbox = await testSandbox({ ledgerIntervalMs: 5, acceptChannelTransactions: accept });
      const chain = createPiChain({
        network: sandbox.network,
        walletSeed: sandbox.walletSeed,
        horizonUrl: sandbox.horizonUrl,
        channels: fundChannels(sandbox, 1),
      });
      const platform = createPiPlatform({
        apiKey: sandbox.apiKey,
        baseUrl: sandbox.apiUrl,
        retry: false,
      });
      const payment = await platform.createPayment(
        parsePaymentArgs({ amount: "1", memo: "m", metadata: {}, uid: sandbox.users[0]!.uid }),
      );
      const tx = await chain.buildPayment({
        paymentId: payment.identifier,
        to: payment.to_address,
        amount: parseAmount("1"),
      });
      await chain.submit(tx);
      const completed = platform.completePayment(payment.identifier, tx.txid);
      if (accept)
        await expect(completed).resolves.toMatchObject({ status: { developer_completed: true } });
      else
        await expect(completed).rejects.toMatchObject({
          code: "PI_VERIFICATION_FAILED",
          verificationError: "tx_source_mismatch",
        });
    }
  });

  test("payouts through channels complete, each paid once", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 5,
      clock: "simulated",
      users: 6,
      incompleteLimit: "user",
      oneTransactionPerAccountPerLedger: true,
    });
    const payouts = testPayouts(sandbox, {
      incompleteLimit: "user",
      channels: fundChannels(sandbox, 3),
    });
    const results = await Promise.all(
      sandbox.users.map((user, i) =>
        payouts.pay({ key: `ch-${i}`, uid: user.uid, amount: 1, memo: "m" }),
      ),
    );
    expect(results.map((p) => p.state)).toEqual(Array(6).fill("completed"));
    expectPaidAtMostOnce(sandbox, results);
  });

  test("channels must be valid, distinct seeds other than the wallet's; none is repeated in an error", async () => {
    const sandbox = await testSandbox();
    const one = Keypair.random().secret();
    for (const channels of [["SNOTASEED"], [one, one], [sandbox.walletSeed]]) {
      let thrown: unknown;
      try {
        createPiChain({ network: sandbox.network, walletSeed: sandbox.walletSeed, channels });
      } catch (error) {
        thrown = error;
      }
      expect(isValidationError(thrown)).toBe(true);
      expect(JSON.stringify(thrown)).not.toContain(one);
      expect(JSON.stringify(thrown)).not.toContain(sandbox.walletSeed);
    }
  });
});
