import { describe, expect, test } from "vitest";
import type { PiChain } from "../../src/adapters/index.js";
import { parseAmount } from "../../src/domain/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";

/**
 * What a contract run needs: a fresh sandbox (ledgers closing on their own), the chain under
 * test, and a second instance on the same wallet, as another process would have.
 */
export type ChainSetup = () => Promise<{ sandbox: Sandbox; chain: PiChain; elsewhere: PiChain }>;

/** The Pi chain port's contract, checked against the sandbox over HTTP. */
export function piChainContract(name: string, setup: ChainSetup): void {
  describe(`PiChain contract: ${name}`, () => {
    test("builds a signed A2U transaction before sending anything, then it lands once", async () => {
      const { sandbox, chain } = await setup();
      const to = sandbox.users[0]!.address!;
      const paymentId = "A".repeat(28);
      const tx = await chain.buildPayment({ paymentId, to, amount: parseAmount("2.5") });
      expect(tx.txid).toMatch(/^[0-9a-f]{64}$/);
      expect(tx.source).toBe(chain.walletAddress);
      expect(sandbox.requests().some((r) => r.method === "POST")).toBe(false);
      expect(await chain.submit(tx)).toMatchObject({ status: "applied", txid: tx.txid });
      expect(await chain.submit(tx)).toMatchObject({ status: "applied", txid: tx.txid });
      expect(sandbox.ledgerPayments()).toEqual([
        expect.objectContaining({ txid: tx.txid, memo: paymentId, amount: "2.5", to }),
      ]);
    });

    test("looks a transaction up by hash and the wallet's payment by memo", async () => {
      const { sandbox, chain } = await setup();
      const to = sandbox.users[1]!.address!;
      const tx = await chain.buildPayment({
        paymentId: "B".repeat(28),
        to,
        amount: parseAmount("1"),
      });
      const expected = { paymentId: "B".repeat(28), to, amount: parseAmount("1") };
      expect(await chain.getTransaction(tx.txid)).toBeUndefined();
      expect(await chain.findPaymentTransaction(expected)).toEqual({
        found: undefined,
        ignored: [],
      });
      await chain.submit(tx);
      const found = await chain.getTransaction(tx.txid);
      expect(found).toMatchObject({
        txid: tx.txid,
        successful: true,
        memo: "B".repeat(28),
        source: chain.walletAddress,
      });
      expect(found?.payments).toEqual([{ from: chain.walletAddress, to, amount: "1" }]);
      expect(await chain.findPaymentTransaction(expected)).toEqual({ found, ignored: [] });
      // Ours means all of it: the same memo paying another amount is not the payment's.
      expect(await chain.findPaymentTransaction({ ...expected, amount: parseAmount("2") })).toEqual(
        { found: undefined, ignored: [{ txid: tx.txid, reason: "paid 1, not 2" }] },
      );
    });

    test("prepares a payment: the transaction that already paid it, or else a new envelope", async () => {
      const { sandbox, chain, elsewhere } = await setup();
      const to = sandbox.users[0]!.address!;
      const expected = { paymentId: "P".repeat(28), to, amount: parseAmount("1") };
      const first = await chain.preparePayment(expected);
      expect(first).toMatchObject({ status: "built", ignored: [] });
      if (first.status !== "built") throw new Error("unreachable");
      await chain.submit(first.transaction);
      // Another process asked to pay it again finds it instead of paying twice.
      expect(await elsewhere.preparePayment(expected)).toMatchObject({
        status: "landed",
        transaction: { txid: first.transaction.txid },
      });
    });

    test("the fate of an envelope: pending, landed, or dead once its time bound passed", async () => {
      const { sandbox, chain } = await setup();
      const to = sandbox.users[0]!.address!;
      const tx = await chain.buildPayment({
        paymentId: "C".repeat(28),
        to,
        amount: parseAmount("1"),
      });
      expect((await chain.fate(tx)).status).toBe("pending");
      // Never sent: once a ledger closes past its upper time bound, it can never land.
      for (let i = 0; i < 40 && (await chain.latestLedger()).closedAt <= tx.maxTime; i++)
        await sandbox.closeLedger();
      expect(await chain.fate(tx)).toEqual({ status: "dead", reason: "expired" });

      const landed = await chain.buildPayment({
        paymentId: "D".repeat(28),
        to,
        amount: parseAmount("1"),
      });
      await chain.submit(landed);
      expect(await chain.fate(landed)).toMatchObject({
        status: "landed",
        transaction: { txid: landed.txid },
      });
    });

    test("an envelope whose sequence was used by another process's transaction is dead at once", async () => {
      const { sandbox, chain, elsewhere } = await setup();
      const to = sandbox.users[0]!.address!;
      const first = await elsewhere.buildPayment({
        paymentId: "E".repeat(28),
        to,
        amount: parseAmount("1"),
      });
      const rival = await chain.buildPayment({
        paymentId: "F".repeat(28),
        to,
        amount: parseAmount("1"),
      });
      expect(rival.sequence).toBe(first.sequence);
      await elsewhere.submit(first);
      expect(await chain.submit(rival)).toMatchObject({
        status: "failed",
        resultCodes: { transaction: "tx_bad_seq" },
      });
      // Identified, not inferred: the history names the transaction that used the sequence.
      expect(await chain.fate(rival)).toEqual({
        status: "dead",
        reason: "sequence_used",
        usedBy: first.txid,
      });
    });

    test("in one process, envelopes take turns on the wallet's sequence instead of colliding", async () => {
      const { sandbox, chain } = await setup();
      const to = sandbox.users[0]!.address!;
      const first = await chain.buildPayment({
        paymentId: "G".repeat(28),
        to,
        amount: parseAmount("1"),
      });
      let secondBuilt = false;
      const second = chain
        .buildPayment({ paymentId: "H".repeat(28), to, amount: parseAmount("1") })
        .then((tx) => {
          secondBuilt = true;
          return tx;
        });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(secondBuilt).toBe(false);
      expect(await chain.submit(first)).toMatchObject({ status: "applied" });
      const next = await second;
      expect(BigInt(next.sequence)).toBe(BigInt(first.sequence) + 1n);
      expect(await chain.submit(next)).toMatchObject({ status: "applied" });
    });

    test("reads the latest ledger and the wallet", async () => {
      const { sandbox, chain } = await setup();
      const ledger = await chain.latestLedger();
      expect(ledger.sequence).toBeGreaterThanOrEqual(1);
      expect(ledger.closedAt).toBeLessThanOrEqual(sandbox.chain.latest.closedAt);
      expect(await chain.account()).toMatchObject({ balance: "100000.0000000" });
    });
  });
}
