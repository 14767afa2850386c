import { inspect } from "node:util";
import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { createPiChain } from "../../src/adapters/index.js";
import { isValidationError, parseAmount } from "../../src/domain/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { piChainContract } from "../contract/pi-chain.contract.js";
import { testSandbox } from "../helpers/sandbox.js";

const chainFor = (sandbox: Sandbox, extra: Partial<Parameters<typeof createPiChain>[0]> = {}) =>
  createPiChain({
    network: sandbox.network,
    walletSeed: sandbox.walletSeed,
    horizonUrl: sandbox.horizonUrl,
    ...extra,
  });

piChainContract("createPiChain over HTTP", async () => {
  const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
  return { sandbox, chain: chainFor(sandbox), elsewhere: chainFor(sandbox) };
});

const errorOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("createPiChain", () => {
  const request = (sandbox: Sandbox, paymentId = "P".repeat(28)) => ({
    paymentId,
    to: sandbox.users[0]!.address!,
    amount: parseAmount("1"),
  });

  test("a 504 after the transaction was applied is recognised as applied", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      faults: [{ route: "POST /transactions", kind: "error", status: 504, when: "after" }],
    });
    const chain = chainFor(sandbox);
    const tx = await chain.buildPayment(request(sandbox));
    expect(await chain.submit(tx)).toMatchObject({ status: "applied", txid: tx.txid });
  });

  test("a dropped connection after apply is recognised as applied", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      faults: [{ route: "POST /transactions", kind: "drop" }],
    });
    const chain = chainFor(sandbox);
    const tx = await chain.buildPayment(request(sandbox));
    expect(await chain.submit(tx)).toMatchObject({ status: "applied" });
  });

  test("a 5xx before apply, JSON or HTML, is unknown, never failed; the same envelope then lands", async () => {
    for (const body of ["json", "html"] as const) {
      const sandbox = await testSandbox({
        ledgerIntervalMs: 10,
        faults: [{ route: "POST /transactions", kind: "error", status: 502, body, times: 1 }],
      });
      const chain = chainFor(sandbox);
      const tx = await chain.buildPayment(request(sandbox));
      expect(await chain.submit(tx)).toMatchObject({ status: "unknown", txid: tx.txid });
      expect(await chain.submit(tx)).toMatchObject({ status: "applied", txid: tx.txid });
    }
  });

  test("Horizon's 504 timeout for a queued transaction is unknown", async () => {
    const sandbox = await testSandbox({ submitTimeoutMs: 50 });
    const chain = chainFor(sandbox);
    const tx = await chain.buildPayment(request(sandbox));
    expect(await chain.submit(tx)).toMatchObject({
      status: "unknown",
      reason: expect.stringContaining("504"),
    });
    await sandbox.closeLedger();
    expect(await chain.submit(tx)).toMatchObject({ status: "applied" });
  });

  test("refusals keep Horizon's result codes; failures in a ledger say so", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, walletBalance: "5" });
    const chain = chainFor(sandbox);
    const poor = await chain.buildPayment({ ...request(sandbox), amount: parseAmount("100") });
    expect(await chain.submit(poor)).toEqual({
      status: "failed",
      txid: poor.txid,
      resultCodes: { transaction: "tx_failed", operations: ["op_underfunded"] },
      inLedger: true,
    });
    const nowhere = await chain.buildPayment({
      ...request(sandbox),
      to: Keypair.random().publicKey(),
    });
    expect(await chain.submit(nowhere)).toMatchObject({
      status: "failed",
      resultCodes: { operations: ["op_no_destination"] },
    });
  });

  test("tx_bad_seq is confirmed by a hash lookup: a transaction that had landed is applied", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
    const chain = chainFor(sandbox);
    const tx = await chain.buildPayment(request(sandbox));
    await chain.submit(tx);
    // An older Horizon answers tx_bad_seq for an applied transaction; the sandbox can pretend.
    sandbox.setFaults([
      {
        route: "POST /transactions",
        kind: "error",
        status: 400,
        resultCodes: { transaction: "tx_bad_seq" },
      },
    ]);
    expect(await chain.submit(tx)).toMatchObject({ status: "applied" });
    // A real tx_bad_seq for a transaction that never landed stays a failure.
    sandbox.clearFaults();
    const rival = await chain.buildPayment(request(sandbox, "Q".repeat(28)));
    // Another process, building on the same sequence.
    const other = await chainFor(sandbox).buildPayment(request(sandbox, "R".repeat(28)));
    await chain.submit(rival);
    expect(await chain.submit(other)).toMatchObject({
      status: "failed",
      resultCodes: { transaction: "tx_bad_seq" },
      inLedger: false,
    });
  });

  test("a wallet on the wrong network is refused before signing", async () => {
    const sandbox = await testSandbox({ network: "Pi Network" });
    const chain = createPiChain({
      network: "Pi Testnet",
      walletSeed: sandbox.walletSeed,
      horizonUrl: sandbox.horizonUrl,
    });
    expect(await errorOf(chain.buildPayment(request(sandbox)))).toMatchObject({
      code: "WRONG_NETWORK",
    });
  });

  test("an unfunded wallet is ACCOUNT_NOT_FOUND", async () => {
    const sandbox = await testSandbox();
    const chain = createPiChain({
      network: sandbox.network,
      walletSeed: Keypair.random().secret(),
      horizonUrl: sandbox.horizonUrl,
    });
    expect(await errorOf(chain.buildPayment(request(sandbox)))).toMatchObject({
      code: "ACCOUNT_NOT_FOUND",
    });
  });

  test("Horizon down is a retryable HORIZON_UNREACHABLE", async () => {
    const chain = createPiChain({
      network: "Pi Testnet",
      walletSeed: Keypair.random().secret(),
      horizonUrl: "http://127.0.0.1:1",
    });
    expect(await errorOf(chain.latestLedger())).toMatchObject({
      code: "HORIZON_UNREACHABLE",
      retryable: true,
    });
  });

  test("the seed is validated without being repeated, and never shows in the adapter", async () => {
    const sandbox = await testSandbox();
    const seed = Keypair.random().secret();
    const broken = `${seed.slice(0, -1)}${seed.endsWith("A") ? "B" : "A"}`;
    let thrown: unknown;
    try {
      createPiChain({ network: "Pi Testnet", walletSeed: broken });
    } catch (error) {
      thrown = error;
    }
    expect(isValidationError(thrown)).toBe(true);
    expect(`${inspect(thrown, { depth: 20 })}${JSON.stringify(thrown)}`).not.toContain(broken);
    const chain = chainFor(sandbox);
    expect(inspect(chain, { depth: 20, showHidden: true })).not.toContain(sandbox.walletSeed);
    expect(JSON.stringify(chain)).not.toContain(sandbox.walletSeed);
  });
});
