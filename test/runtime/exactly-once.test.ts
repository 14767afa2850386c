import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Asset, Keypair, Memo, Operation, TransactionBuilder } from "@stellar/stellar-sdk";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { PiNetwork, type PiNetworkOptions, type Probe } from "../../src/index.js";
import { defaultOwner } from "../../src/runtime/owner.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createPostgresStore, type PostgresPool } from "../../src/storage/postgres.js";
import type { PayoutStore } from "../../src/storage/types.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";
import { horizonOf } from "../helpers/stellar.js";

/**
 * Exactly once against a world that lags, lies and races: each situation here paid a user
 * twice, or froze every payout of an app, before the library decided from evidence only.
 */

const fast = { ledgerIntervalMs: "manual" as const };

/** Closes a ledger whenever a transaction waits for one, as the network would. */
function closeWhenPending(sandbox: Sandbox): () => void {
  const timer = setInterval(() => {
    if (sandbox.chain.pendingCount() > 0) sandbox.chain.closeLedger();
  }, 2);
  return () => clearInterval(timer);
}

/** Closes a ledger every `ms`, pending transactions or not, as the network does. */
function closeEvery(sandbox: Sandbox, ms: number): () => void {
  const timer = setInterval(() => sandbox.chain.closeLedger(), ms);
  return () => clearInterval(timer);
}

const errorOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

const piOptions = (sandbox: Sandbox): PiNetworkOptions => ({
  apiKey: sandbox.apiKey,
  walletSeed: sandbox.walletSeed,
  network: sandbox.network,
  apiUrl: sandbox.apiUrl,
  horizonUrl: sandbox.horizonUrl,
  resubmitDelayMs: 5,
});

describe("exactly once against a world that lags, lies and races", () => {
  test("1. a retried PiNetwork.submitPayment after a 504-after-apply and failing look-ups pays once", async () => {
    const sandbox = await testSandbox({ ...fast, linkLagMs: "never" });
    const stop = closeWhenPending(sandbox);
    try {
      const pi = new PiNetwork(piOptions(sandbox));
      const id = await pi.createPayment({
        amount: "2.5",
        memo: "refund",
        metadata: {},
        uid: sandbox.users[0]!.uid,
      });
      // Horizon applies the transaction but answers 504; the hash look-up and the latest
      // ledger then fail with 503: nothing can tell whether it landed.
      sandbox.setFaults([
        { route: "POST /transactions", kind: "error", status: 504, when: "after", times: 1 },
        { route: "GET /transactions/*", kind: "error", status: 503, times: 1 },
        { route: "GET /ledgers", kind: "error", status: 503, times: 1 },
      ]);
      const error = await errorOf(pi.submitPayment(id));
      expect(error).toMatchObject({
        name: "ChainError",
        retryable: true,
        outcomeUnknown: true,
        txid: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      const sent = (error as { txid: string }).txid;

      // The caller retries, as `retryable` invites: the same transaction, not a second one.
      expect(await pi.submitPayment(id)).toBe(sent);
      // So does another process that never saw the first attempt.
      expect(await new PiNetwork(piOptions(sandbox)).submitPayment(id)).toBe(sent);
      expect(sandbox.ledgerPayments().filter((p) => p.memo === id)).toHaveLength(1);
      expect((await pi.completePayment(id, sent)).status.developer_completed).toBe(true);
    } finally {
      stop();
    }
  });

  test.each([
    ["Pi never links the transaction", "never" as const],
    ["Pi links it at once", 0],
  ])(
    "2. reads from a Horizon instance a ledger behind never make a payout pay twice (%s)",
    async (_name, linkLagMs) => {
      const sandbox = await testSandbox({ ...fast, linkLagMs });
      // The network closes a ledger every 100 ms whatever happens; some instances lag one behind.
      const stop = closeEvery(sandbox, 100);
      try {
        sandbox.setFaults([
          { route: "POST /transactions", kind: "error", status: 504, when: "after", times: 1 },
          { route: "GET /transactions/*", kind: "lag", ledgers: 1 },
          { route: "GET /accounts/*/transactions", kind: "lag", ledgers: 1 },
        ]);
        const payouts = testPayouts(sandbox);
        const payout = await payouts.pay({
          key: "lagged",
          uid: sandbox.users[0]!.uid,
          amount: "3",
          memo: "m",
        });
        expect(payout.state).toBe("completed");
        expect(payout.deadTransactions).toEqual([]);
        expectPaidAtMostOnce(sandbox, [payout]);
        expect(sandbox.ledgerPayments()).toHaveLength(1);
      } finally {
        stop();
      }
    },
  );

  test("3. a cancel landing while the slot is being written leaves no slot held by an ended payout", async () => {
    const sandbox = await testSandbox(fast);
    const stop = closeWhenPending(sandbox);
    try {
      const memory = createMemoryStore();
      let release: (() => void) | undefined;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let slowed = false;
      // The first acquisition of "racing" is slow to reach the store: the cancel lands first.
      // Its insert takes no slot (a held slot at intake leads here too): it must acquire one.
      const store: PayoutStore = {
        ...memory,
        create: (payout, entry, { slot: _taken, ...createOptions } = {}) =>
          memory.create(payout, entry, createOptions),
        acquireSlot: async (scope, key) => {
          if (key === "racing" && !slowed) {
            slowed = true;
            await gate;
          }
          return memory.acquireSlot(scope, key);
        },
      };
      const payouts = testPayouts(sandbox, { store });
      const uid = sandbox.users[0]!.uid;
      const racing = payouts.pay({ key: "racing", uid, amount: 1, memo: "m" });
      await eventually(() => slowed);
      expect((await payouts.cancel("racing")).state).toBe("cancelled");
      await racing;
      release?.();
      await new Promise((resolve) => setTimeout(resolve, 20));

      const next = await payouts.pay({ key: "next", uid, amount: 2, memo: "m" });
      expect(next.state).toBe("completed");
      const holder = await store.slotHolder(`app:${sandbox.walletAddress}`);
      expect(holder === undefined || holder !== "racing").toBe(true);
    } finally {
      stop();
    }
  });

  test("5. a create answered with a body of the wrong shape is looked up, adopted and paid once; the queue goes on", async () => {
    const sandbox = await testSandbox(fast);
    const stop = closeWhenPending(sandbox);
    try {
      // Pi creates the payment, but its answer has the amount as a string.
      sandbox.setFaults([
        { route: "POST /v2/payments", kind: "tamper", payment: { amount: "3.14" }, times: 1 },
      ]);
      const payouts = testPayouts(sandbox);
      const uid = sandbox.users[0]!.uid;
      const first = await payouts.pay({ key: "shape", uid, amount: "3.14", memo: "m" });
      expect(first.state).toBe("completed");
      const journal = await payouts.journal("shape");
      expect(journal.map((e) => e.details.code)).toContain("PI_BAD_RESPONSE");
      expect(journal.find((e) => e.event === "createPiPayment.done")?.details).toMatchObject({
        adopted: true,
      });
      const second = await payouts.pay({ key: "after", uid, amount: 1, memo: "m" });
      expect(second.state).toBe("completed");
      expect(sandbox.payments()).toHaveLength(2);
      expectPaidAtMostOnce(sandbox, [first, second]);
    } finally {
      stop();
    }
  });

  test("5. a complete answered with nonsense is repeated, never taken as a failure", async () => {
    const sandbox = await testSandbox(fast);
    const stop = closeWhenPending(sandbox);
    try {
      sandbox.setFaults([{ route: "POST /v2/payments/*/complete", kind: "garble", times: 2 }]);
      const payouts = testPayouts(sandbox);
      const payout = await payouts.pay({
        key: "garbled",
        uid: sandbox.users[0]!.uid,
        amount: 1,
        memo: "m",
      });
      expect(payout.state).toBe("completed");
      expectPaidAtMostOnce(sandbox, [payout]);
    } finally {
      stop();
    }
  });

  test("6. a stranger's payment to the wallet with the payment's memo is not taken as the payout's transaction", async () => {
    const sandbox = await testSandbox({ ...fast, linkLagMs: "never" });
    // Ledgers close fast until the first envelope expires, then as the network would.
    let stopLedgers = closeEvery(sandbox, 5);
    try {
      // The first envelope never reaches the network, and expires.
      sandbox.setFaults([{ route: "POST /transactions", kind: "error", status: 502 }]);
      // The next build (after the first envelope died) waits for the dust, then the network heals.
      let builds = 0;
      let dustLanded!: () => void;
      const landed = new Promise<void>((resolve) => {
        dustLanded = resolve;
      });
      const probe: Probe = async (point) => {
        if (point.point === "effect:start" && point.effect === "buildTransaction") {
          builds += 1;
          if (builds === 2) {
            await landed;
            sandbox.clearFaults();
            stopLedgers();
            stopLedgers = closeWhenPending(sandbox);
          }
        }
      };
      const payouts = testPayouts(sandbox, { timeBoundSeconds: 10, probe });
      const user = sandbox.users[0]!;
      const stranger = sandbox.users[1]!;
      const paying = payouts.pay({ key: "dusted", uid: user.uid, amount: 5, memo: "m" });
      let paymentId: string | null = null;
      await eventually(async () => {
        paymentId = (await payouts.get("dusted"))?.paymentId ?? null;
        return paymentId !== null;
      });
      // Someone sends dust to the app wallet with the payment id as memo.
      const horizon = horizonOf(sandbox);
      const from = Keypair.fromSecret(stranger.seed!);
      const dust = new TransactionBuilder(await horizon.loadAccount(from.publicKey()), {
        fee: "100000",
        networkPassphrase: sandbox.network,
      })
        .addOperation(
          Operation.payment({
            destination: sandbox.walletAddress,
            asset: Asset.native(),
            amount: "0.0000001",
          }),
        )
        .addMemo(Memo.text(paymentId!))
        .setTimeout(60)
        .build();
      dust.sign(from);
      const submitted = sandbox.chain.submit(dust.toEnvelope().toXDR("base64"));
      if (submitted.kind === "pending") await submitted.result;
      dustLanded();

      const payout = await paying;
      expect(payout.state).toBe("completed");
      const paid = sandbox.ledgerPayments().filter((p) => p.memo === paymentId);
      expect(paid.filter((p) => p.to === user.address)).toEqual([
        expect.objectContaining({ txid: payout.txid, amount: "5" }),
      ]);
      expect(payout.txid).not.toBe(dust.hash().toString("hex"));
      const noted = (await payouts.journal("dusted")).flatMap(
        (e) => (e.details.ignored as Array<{ txid: string }> | undefined) ?? [],
      );
      expect(noted.map((i) => i.txid)).toContain(dust.hash().toString("hex"));
    } finally {
      stopLedgers();
    }
  });

  test("7. a payout that failed once its envelope died releases Pi's slot; the queue goes on", async () => {
    const sandbox = await testSandbox({ ...fast, walletBalance: "3" });
    const stop = closeWhenPending(sandbox);
    try {
      const payouts = testPayouts(sandbox);
      const poor = await payouts.pay({
        key: "big",
        uid: sandbox.users[0]!.uid,
        amount: 50,
        memo: "big",
      });
      // The envelope failed in its ledger: it can never land, so the Pi payment is cancelled.
      expect(poor).toMatchObject({
        state: "failed",
        stateDetail: "failed.resting",
        failure: { code: "INSUFFICIENT_FUNDS", resumeFrom: "created", paymentOpen: false },
      });
      const firstPayment = poor.paymentId;
      expect(sandbox.payments().find((p) => p.identifier === firstPayment)?.status.cancelled).toBe(
        true,
      );
      expect((await payouts.journal("big")).map((e) => e.to)).toContain("failed.releasing");

      const next = await payouts.pay({
        key: "small",
        uid: sandbox.users[1]!.uid,
        amount: 1,
        memo: "small",
      });
      expect(next.state).toBe("completed");

      sandbox.fund(sandbox.walletAddress, "1000");
      const retried = await payouts.retry("big");
      expect(retried.state).toBe("completed");
      expect(retried.paymentId).not.toBe(firstPayment);
      expectPaidAtMostOnce(sandbox, [retried, next]);
    } finally {
      stop();
    }
  });

  test("7. while a payout holds the slot, the ones waiting for it name it, its state and its failure", async () => {
    const sandbox = await testSandbox(fast);
    const stop = closeWhenPending(sandbox);
    try {
      // Paid, but Pi never verifies it: the payment stays open and keeps Pi's slot.
      sandbox.setFaults([
        {
          route: "POST /v2/payments/*/complete",
          kind: "error",
          status: 400,
          piError: "verification_failed",
        },
      ]);
      const payouts = testPayouts(sandbox);
      const uid = sandbox.users[0]!.uid;
      const stuck = await payouts.pay({ key: "stuck", uid, amount: 1, memo: "m" });
      expect(stuck).toMatchObject({ state: "failed", failure: { paymentOpen: true } });
      void payouts.pay({ key: "waiting", uid, amount: 2, memo: "m" }).catch(() => undefined);
      await eventually(
        async () => (await payouts.get("waiting"))?.stateDetail === "created.queued",
      );
      const blocked = {
        key: "stuck",
        state: "failed",
        failure: expect.objectContaining({ code: "PI_VERIFICATION_FAILED" }),
      };
      expect((await payouts.get("waiting"))?.blockedBy).toMatchObject(blocked);
      expect((await payouts.list({ atRest: false }))[0]?.blockedBy).toMatchObject(blocked);
      expect((await payouts.get("stuck"))?.blockedBy).toBeNull();
    } finally {
      stop();
    }
  });

  test("8. cancel while the payout's lease is held by a process that is gone takes it over at once", async () => {
    const sandbox = await testSandbox(fast);
    const stop = closeWhenPending(sandbox);
    try {
      const store = createMemoryStore();
      // A runtime that stops at the create's answer, as a process killed there would.
      let crashed = false;
      const probe: Probe = async (point) => {
        if (point.point === "effect:end" && point.effect === "createPiPayment") {
          crashed = true;
          await new Promise(() => {});
        }
      };
      const dead = testPayouts(sandbox, {
        store,
        leaseMs: 60_000,
        probe,
        owner: `${hostname()}:${exitedPid()}:${localityOf()}.dead00`,
      });
      void dead.pay({ key: "orphan", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
      await eventually(() => crashed);
      await dead.close({ abandon: true });

      const alive = testPayouts(sandbox, { store, leaseMs: 60_000 });
      const started = performance.now();
      const cancelled = await alive.cancel("orphan");
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(cancelled.state).toBe("cancelled");
      const takeover = (await alive.journal("orphan")).find((e) => e.event === "TAKEOVER");
      expect(takeover?.details).toMatchObject({ from: dead.owner });
      expect(takeover?.owner).toBe(alive.owner);
    } finally {
      stop();
    }
  });
});

const icuUrl = process.env.PI_PAYMENTS_TEST_PG_ICU_URL;

describe.runIf(icuUrl)("4. on a PostgreSQL database whose default collation is ICU en-US", () => {
  test("resume() takes up every one of 501 unfinished payouts, whatever their keys", async () => {
    const sandbox = await testSandbox(fast);
    const pool = new pg.Pool({ connectionString: icuUrl, max: 4 });
    const schema = `t_${randomBytes(6).toString("hex")}`;
    const store = createPostgresStore({ pool: pool as unknown as PostgresPool, schema });
    try {
      const payouts = testPayouts(sandbox, { store });
      // Bytewise, "B…" sorts before "a"; in en-US, "a" sorts before "B…": a page that ends
      // on "B0500" must not skip "a".
      const keys = [
        ...Array.from({ length: 500 }, (_, i) => `B${String(i + 1).padStart(4, "0")}`),
        "a",
      ];
      for (const key of keys)
        await payouts.enqueue({ key, uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
      const taken = await payouts.resume({ wait: false });
      expect(taken).toHaveLength(501);
      expect(new Set(taken.map((p) => p.key))).toEqual(new Set(keys));
      await payouts.close({ abandon: true });
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    }
  }, 60_000);
});

/** This process's locality token, read off a default owner name. */
function localityOf(): string {
  return defaultOwner().split(":")[2]!.split(".")[0]!;
}

/** The pid of a process that has exited: nobody runs under it now. */
function exitedPid(): number {
  return spawnSync(process.execPath, ["-e", ""]).pid!;
}
