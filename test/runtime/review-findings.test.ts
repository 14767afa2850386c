import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { createPiChain } from "../../src/adapters/index.js";
import { parseAmount } from "../../src/domain/index.js";
import { PiNetwork, type PiNetworkOptions, type Probe } from "../../src/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";
import { fillWalletHistory } from "../helpers/stellar.js";

/**
 * What an adversarial review of exactly-once found: each test failed before its fix. The
 * letters are the review's.
 */

function closeWhenPending(sandbox: Sandbox): () => void {
  const timer = setInterval(() => {
    if (sandbox.chain.pendingCount() > 0) sandbox.chain.closeLedger();
  }, 2);
  return () => clearInterval(timer);
}

function closeEvery(sandbox: Sandbox, ms: number): () => void {
  const timer = setInterval(() => sandbox.chain.closeLedger(), ms);
  return () => clearInterval(timer);
}

const piOptions = (sandbox: Sandbox): PiNetworkOptions => ({
  apiKey: sandbox.apiKey,
  walletSeed: sandbox.walletSeed,
  network: sandbox.network,
  apiUrl: sandbox.apiUrl,
  horizonUrl: sandbox.horizonUrl,
  resubmitDelayMs: 5,
});

const paidFor = (sandbox: Sandbox, paymentId: string) =>
  sandbox.ledgerPayments().filter((p) => p.memo === paymentId);

function fundChannels(sandbox: Sandbox, count: number): string[] {
  return Array.from({ length: count }, () => {
    const channel = Keypair.random();
    sandbox.fund(channel.publicKey(), "100");
    return channel.secret();
  });
}

describe("what an adversarial review of exactly-once found", () => {
  test("A. a history search that runs out of pages before the payment's creation builds nothing", async () => {
    const sandbox = await testSandbox({ linkLagMs: "never" });
    const stop = closeWhenPending(sandbox);
    const pi = new PiNetwork(piOptions(sandbox));
    const id = await pi.createPayment({
      amount: "2",
      memo: "m",
      metadata: {},
      uid: sandbox.users[0]!.uid,
    });
    await pi.submitPayment(id);
    stop();
    // A page's worth of newer transactions of the wallet.
    await fillWalletHistory(sandbox, 200, sandbox.users[1]!.address!);
    const chain = createPiChain({
      network: sandbox.network,
      walletSeed: sandbox.walletSeed,
      horizonUrl: sandbox.horizonUrl,
      historyMaxPages: 1,
    });
    const payment = sandbox.payments().find((p) => p.identifier === id)!;
    await expect(
      chain.preparePayment({
        paymentId: id,
        to: payment.to_address,
        amount: parseAmount("2"),
        createdAt: payment.created_at,
      }),
    ).rejects.toMatchObject({ code: "HISTORY_SEARCH_INCOMPLETE", retryable: true });
    expect(paidFor(sandbox, id)).toHaveLength(1);
  });

  test("B. a tx_failed answer for an applied envelope is looked up: the payout completes, paid once", async () => {
    const sandbox = await testSandbox({ linkLagMs: "never" });
    const stop = closeWhenPending(sandbox);
    try {
      sandbox.setFaults([
        {
          route: "POST /transactions",
          kind: "error",
          status: 400,
          when: "after",
          resultCodes: { transaction: "tx_failed", operations: ["op_underfunded"] },
          times: 1,
        },
      ]);
      const payouts = testPayouts(sandbox);
      const payout = await payouts.pay({
        key: "lied-to",
        uid: sandbox.users[0]!.uid,
        amount: 4,
        memo: "m",
      });
      expect(payout.state).toBe("completed");
      expect(paidFor(sandbox, payout.paymentId!)).toHaveLength(1);
    } finally {
      stop();
    }
  });

  test.each(["retry", "cancel"] as const)(
    "C. a watched envelope found dead, whose release Pi refuses once, then %s: it settles and the queue goes on",
    async (command) => {
      const sandbox = await testSandbox({ linkLagMs: "never" });
      // Ledgers close fast until the watched envelope expires, then as the network would.
      let stop = closeEvery(sandbox, 5);
      try {
        sandbox.setFaults([
          {
            route: "POST /transactions",
            kind: "error",
            status: 400,
            resultCodes: { transaction: "tx_insufficient_fee" },
            times: 1,
          },
          {
            route: "POST /v2/payments/*/cancel",
            kind: "error",
            status: 400,
            piError: "forbidden",
            times: 1,
          },
        ]);
        const payouts = testPayouts(sandbox, { timeBoundSeconds: 10 });
        const uid = sandbox.users[0]!.uid;
        const failed = await payouts.pay({ key: "watched", uid, amount: 1, memo: "m" });
        // Its envelope is dead: a retry signs anew, from stored.
        expect(failed).toMatchObject({
          stateDetail: "failed.resting",
          failure: { code: "FEE_TOO_LOW", resumeFrom: "stored", paymentOpen: true },
        });
        stop();
        stop = closeWhenPending(sandbox);
        const ended =
          command === "retry" ? await payouts.retry("watched") : await payouts.cancel("watched");
        expect(ended.state).toBe(command === "retry" ? "completed" : "cancelled");
        const next = await payouts.pay({ key: "next", uid, amount: 2, memo: "m" });
        expect(next.state).toBe("completed");
        expectPaidAtMostOnce(sandbox, [ended, next]);
      } finally {
        stop();
      }
    },
    20_000,
  );

  test.each([
    ["its own channel", "own"],
    ["no channel", "none"],
  ] as const)(
    "D. an orphan whose envelope may be in flight through another process's channel is not paid again (the adopter has %s)",
    async (_name, adopter) => {
      const sandbox = await testSandbox({ linkLagMs: "never" });
      const [c1, c2] = fundChannels(sandbox, 2);
      const uid = sandbox.users[0]!.uid;
      let sent = false;
      const probe: Probe = async (point) => {
        if (point.point === "effect:start" && point.effect === "submitTransaction") {
          setTimeout(() => {
            sent = true;
          }, 50);
        }
      };
      // The first process sends through channel c1, then dies with the envelope in Horizon's queue.
      const first = testPayouts(sandbox, { channels: [c1!], probe, store: createMemoryStore() });
      void first.pay({ key: "orphaned", uid, amount: 7, memo: "m" }).catch(() => undefined);
      await eventually(() => sent && sandbox.chain.pendingCount() === 1);
      await first.close({ abandon: true });
      const paymentId = sandbox.payments()[0]!.identifier;

      // The store lost the payout; another process adopts it as an orphan.
      const second = testPayouts(sandbox, {
        store: createMemoryStore(),
        timeBoundSeconds: 10,
        ...(adopter === "own" ? { channels: [c2!] } : {}),
      });
      const recovering = second.recover({ adoptOrphans: true });
      // While the first envelope waits in Horizon's queue, the adopter builds nothing.
      await eventually(async () =>
        (await second.journal("orphaned")).some(
          (e) => e.details.code === "EARLIER_ENVELOPE_MAY_LAND",
        ),
      );
      expect(sandbox.chain.pendingCount()).toBe(1);
      const stop = closeEvery(sandbox, 20);
      try {
        const report = await recovering;
        expect(report.adopted.map((a) => a.key)).toEqual(["orphaned"]);
        const payout = (await second.get("orphaned"))!;
        expect(payout.state).toBe("completed");
        expect(paidFor(sandbox, paymentId).map((p) => p.txid)).toEqual([payout.txid]);
      } finally {
        stop();
      }
    },
    30_000,
  );

  test.each([
    ["its own channel", "own"],
    ["no channel", "none"],
  ] as const)(
    "D''. an orphan whose transaction landed through another process's channel is recognised as paid (the adopter has %s)",
    async (_name, adopter) => {
      const sandbox = await testSandbox({ linkLagMs: "never" });
      const [c1, c2] = fundChannels(sandbox, 2);
      const uid = sandbox.users[0]!.uid;
      const stop = closeWhenPending(sandbox);
      try {
        let crashed = false;
        const probe: Probe = async (point) => {
          if (point.point === "effect:end" && point.effect === "submitTransaction") {
            crashed = true;
            await new Promise(() => {});
          }
        };
        const first = testPayouts(sandbox, { channels: [c1!], probe, store: createMemoryStore() });
        void first.pay({ key: "orphaned", uid, amount: 7, memo: "m" }).catch(() => undefined);
        await eventually(() => crashed);
        await first.close({ abandon: true });
        const paymentId = sandbox.payments()[0]!.identifier;
        expect(paidFor(sandbox, paymentId)).toHaveLength(1);

        const second = testPayouts(sandbox, {
          store: createMemoryStore(),
          ...(adopter === "own" ? { channels: [c2!] } : {}),
        });
        await second.recover({ adoptOrphans: true });
        const payout = (await second.get("orphaned"))!;
        expect(payout.state).toBe("completed");
        expect(paidFor(sandbox, paymentId).map((p) => p.txid)).toEqual([payout.txid]);
      } finally {
        stop();
      }
    },
  );

  test.each([
    ["Pi's clock is 15 minutes ahead", (ms: number) => new Date(ms + 15 * 60_000).toISOString()],
    ["created_at has no offset", (ms: number) => new Date(ms).toISOString().replace("Z", "")],
  ])("E. %s: another process's submitPayment finds the payment paid", async (_name, createdAt) => {
    const sandbox = await testSandbox({ linkLagMs: "never" });
    const stop = closeWhenPending(sandbox);
    const previousTz = process.env.TZ;
    process.env.TZ = "America/New_York";
    try {
      const pi = new PiNetwork(piOptions(sandbox));
      const id = await pi.createPayment({
        amount: "2",
        memo: "m",
        metadata: {},
        uid: sandbox.users[0]!.uid,
      });
      const txid = await pi.submitPayment(id);
      sandbox.platform.update(id, (p) => {
        p.created_at = createdAt(Date.parse(p.created_at));
      });
      expect(await new PiNetwork(piOptions(sandbox)).submitPayment(id)).toBe(txid);
      expect(paidFor(sandbox, id)).toHaveLength(1);
    } finally {
      if (previousTz === undefined) delete process.env.TZ;
      else process.env.TZ = previousTz;
      stop();
    }
  });

  test("J. a paid payout whose Pi payment was cancelled under it does not freeze the queue", async () => {
    const sandbox = await testSandbox({ linkLagMs: "never" });
    let paymentId: string | undefined;
    const probe: Probe = async (point) => {
      if (point.point === "effect:start" && point.effect === "submitTransaction")
        paymentId = sandbox.payments()[0]?.identifier;
    };
    const payouts = testPayouts(sandbox, { probe });
    const paying = payouts.pay({ key: "victim", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
    await eventually(() => paymentId !== undefined && sandbox.chain.pendingCount() === 1);
    // Someone cancels the Pi payment while its transaction waits for a ledger.
    sandbox.platform.cancel(paymentId!);
    const stop = closeWhenPending(sandbox);
    try {
      expect(await paying).toMatchObject({
        state: "failed",
        failure: { code: "PAID_BUT_PAYMENT_CANCELLED", paymentOpen: false },
      });
      const next = await payouts.pay({
        key: "next",
        uid: sandbox.users[1]!.uid,
        amount: 2,
        memo: "m",
      });
      expect(next.state).toBe("completed");
    } finally {
      stop();
    }
  });
});
