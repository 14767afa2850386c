import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { piFetch, testSandbox } from "../helpers/sandbox.js";
import { signedPayment, submitAndClose } from "../helpers/stellar.js";

/** An A2U payment, and a stranger's dust payment to the app wallet carrying its identifier as memo. */
async function paymentWithForeignDust(sandbox: Sandbox) {
  const { body: payment } = await piFetch(sandbox, "POST", "/v2/payments", {
    payment: { amount: 1, memo: "m", metadata: {}, uid: sandbox.users[0]!.uid },
  });
  const stranger = Keypair.random();
  sandbox.fund(stranger.publicKey(), "10");
  const dust = await signedPayment(sandbox, {
    seed: stranger.secret(),
    to: sandbox.walletAddress,
    amount: "0.0000001",
    memo: payment.identifier,
  });
  await submitAndClose(sandbox, dust);
  expect(sandbox.ledgerPayments().map((p) => p.memo)).toEqual([payment.identifier]);
  return { payment, dustTxid: dust.hash().toString("hex") };
}

const seen = async (sandbox: Sandbox, id: string) =>
  (await piFetch(sandbox, "GET", `/v2/payments/${id}`)).body;

describe("Pi's chain watcher", () => {
  test("by default it links only a transaction that pays from the payment's from_address, not a stranger's dust", async () => {
    const sandbox = await testSandbox();
    const { payment } = await paymentWithForeignDust(sandbox);
    expect((await seen(sandbox, payment.identifier)).transaction).toBeNull();
    // The app's own transaction is still linked.
    const own = await signedPayment(sandbox, {
      to: payment.to_address,
      amount: "1",
      memo: payment.identifier,
    });
    await submitAndClose(sandbox, own);
    expect((await seen(sandbox, payment.identifier)).transaction).toMatchObject({
      txid: own.hash().toString("hex"),
      verified: true,
    });
  });

  test("with linkForeignTransactions a stranger's dust is linked, unverified, and the payment can no longer be cancelled", async () => {
    const sandbox = await testSandbox({ linkForeignTransactions: true });
    const { payment, dustTxid } = await paymentWithForeignDust(sandbox);
    expect((await seen(sandbox, payment.identifier)).transaction).toMatchObject({
      txid: dustTxid,
      verified: false,
    });
    const cancel = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/cancel`);
    expect([cancel.status, cancel.body.error]).toEqual([400, "payment_tx_present"]);
  });

  test("configure switches linkForeignTransactions while running", async () => {
    const sandbox = await testSandbox();
    sandbox.configure({ linkForeignTransactions: true });
    const { payment, dustTxid } = await paymentWithForeignDust(sandbox);
    expect((await seen(sandbox, payment.identifier)).transaction?.txid).toBe(dustTxid);
  });
});
