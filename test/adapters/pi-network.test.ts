import { inspect } from "node:util";
import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import {
  isOngoingPaymentError,
  isPaymentMismatchError,
  isPiPaymentsError,
  isValidationError,
  PiNetwork,
  type PiNetworkOptions,
} from "../../src/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { testSandbox } from "../helpers/sandbox.js";

const optionsFor = (sandbox: Sandbox, extra: Partial<PiNetworkOptions> = {}): PiNetworkOptions => ({
  apiKey: sandbox.apiKey,
  walletSeed: sandbox.walletSeed,
  network: sandbox.network,
  apiUrl: sandbox.apiUrl,
  horizonUrl: sandbox.horizonUrl,
  resubmitDelayMs: 5,
  ...extra,
});

const errorOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("PiNetwork", () => {
  test("the seed's A2U flow: create, submit, complete", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
    const pi = new PiNetwork(optionsFor(sandbox));
    const uid = sandbox.users[0]!.uid;
    const paymentId = await pi.createPayment({
      amount: 3.14,
      memo: "Refund for apple pie",
      metadata: { productId: "apple-pie-1" },
      uid,
    });
    const txid = await pi.submitPayment(paymentId);
    const payment = await pi.completePayment(paymentId, txid);
    expect(payment).toMatchObject({
      identifier: paymentId,
      amount: 3.14,
      status: { developer_completed: true },
      transaction: { txid, verified: true },
    });
    expect(await pi.getPayment(paymentId)).toEqual(payment);
    expect(await pi.getIncompleteServerPayments()).toEqual([]);
    expect(sandbox.ledgerPayments()).toEqual([
      expect.objectContaining({ txid, memo: paymentId, amount: "3.14" }),
    ]);
  });

  test("initialize(apiKey, walletSeed, network), as code ported from pi-python calls it", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
    const pi = new PiNetwork();
    await expect(pi.getIncompleteServerPayments()).rejects.toMatchObject({
      code: "NOT_INITIALIZED",
    });
    pi.initialize(sandbox.apiKey, sandbox.walletSeed, sandbox.network, {
      apiUrl: sandbox.apiUrl,
      horizonUrl: sandbox.horizonUrl,
    });
    expect(pi.walletAddress).toBe(sandbox.walletAddress);
    expect(await pi.getIncompleteServerPayments()).toEqual([]);
  });

  test("concurrent payments to different users each complete, each paid once", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, incompleteLimit: "user", users: 4 });
    const pi = new PiNetwork(optionsFor(sandbox));
    const results = await Promise.all(
      sandbox.users.map(async (user, i) => {
        const id = await pi.createPayment({
          amount: `${i + 1}`,
          memo: "concurrent",
          metadata: { i },
          uid: user.uid,
        });
        const txid = await pi.submitPayment(id);
        return pi.completePayment(id, txid);
      }),
    );
    expect(results.map((p) => p.amount)).toEqual([1, 2, 3, 4]);
    const paid = sandbox.ledgerPayments();
    expect(paid).toHaveLength(4);
    expect(new Set(paid.map((p) => p.memo)).size).toBe(4);
    for (const payment of results)
      expect(paid.find((p) => p.memo === payment.identifier)?.to).toBe(payment.to_address);
  });

  test("ongoing_payment_found is a typed error carrying the blocking payment, not an adopted id", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
    const pi = new PiNetwork(optionsFor(sandbox));
    const first = await pi.createPayment({
      amount: 1,
      memo: "first",
      metadata: {},
      uid: sandbox.users[0]!.uid,
    });
    const error = await errorOf(
      pi.createPayment({ amount: 2, memo: "second", metadata: {}, uid: sandbox.users[1]!.uid }),
    );
    expect(isOngoingPaymentError(error)).toBe(true);
    expect(error).toMatchObject({
      code: "PI_ONGOING_PAYMENT_FOUND",
      payment: { identifier: first, amount: 1 },
    });
    expect((error as Error).message).toContain(first);
  });

  test("an unknown outcome resends the identical envelope; a new one only once the old provably expired", async () => {
    // Ledgers close only when the test says so: one per envelope sent, so what expires
    // when depends on the count of sends, not on how busy the machine is.
    const sandbox = await testSandbox({
      // Horizon never gets the first envelopes (a 502 before they are handled).
      faults: [{ route: "POST /transactions", kind: "error", status: 502, times: 6 }],
    });
    const sendsOf = () => sandbox.requests().filter((r) => r.path === "/transactions");
    let closedFor = 0;
    let submitting = true;
    const closeOnePerSend = (async () => {
      while (submitting) {
        if (sendsOf().length > closedFor) {
          closedFor += 1;
          await sandbox.closeLedger();
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const pi = new PiNetwork(optionsFor(sandbox, { timeBoundSeconds: 12, resubmitDelayMs: 1 }));
    const id = await pi.createPayment({
      amount: 1,
      memo: "m",
      metadata: {},
      uid: sandbox.users[0]!.uid,
    });
    const txid = await pi.submitPayment(id).finally(() => {
      submitting = false;
    });
    await closeOnePerSend;
    const sends = sendsOf();
    const envelopes = [...new Set(sends.map((s) => s.txid))];
    // 12 s bound, 5 s ledgers: an envelope is resent while it may still land, and replaced
    // once three ledgers have closed past it; six lost sends need at least two envelopes.
    expect(envelopes.length).toBeGreaterThanOrEqual(2);
    expect(sends.filter((s) => s.txid === envelopes[0]).length).toBeGreaterThanOrEqual(2);
    // P3: each new envelope was first sent only after chain time had passed the previous bound.
    for (let i = 1; i < envelopes.length; i++) {
      const previous = sends.filter((s) => s.txid === envelopes[i - 1]);
      const firstOfNext = sends.find((s) => s.txid === envelopes[i])!;
      expect(firstOfNext.at / 1000).toBeGreaterThan(previous[0]!.maxTime!);
    }
    expect(txid).toBe(envelopes[envelopes.length - 1]);
    expect(sandbox.ledgerPayments()).toEqual([expect.objectContaining({ txid, memo: id })]);
  });

  test("a transaction the chain refuses for lack of funds is a typed ChainError, nothing paid", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, walletBalance: "2" });
    const pi = new PiNetwork(optionsFor(sandbox));
    const id = await pi.createPayment({
      amount: 5,
      memo: "m",
      metadata: {},
      uid: sandbox.users[0]!.uid,
    });
    expect(await errorOf(pi.submitPayment(id))).toMatchObject({
      name: "ChainError",
      code: "OP_UNDERFUNDED",
    });
    expect(sandbox.ledgerPayments()).toEqual([]);
  });

  describe("a payment Pi returns differently from what was asked is never signed", () => {
    test.each([
      ["amount", { amount: 9 }],
      ["to_address", { to_address: Keypair.random().publicKey() }],
      ["direction", { direction: "user_to_app" }],
      ["network", { network: "Pi Network" }],
      ["status.cancelled", { status: { cancelled: true } }],
      ["transaction", { transaction: { txid: "e".repeat(64), verified: false, _link: "x" } }],
    ])("another %s", async (field, change) => {
      const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
      const pi = new PiNetwork(optionsFor(sandbox));
      const id = await pi.createPayment({
        amount: 1,
        memo: "m",
        metadata: {},
        uid: sandbox.users[0]!.uid,
      });
      sandbox.setFaults([{ route: "GET /v2/payments/*", kind: "tamper", payment: change }]);
      const error = await errorOf(pi.submitPayment(id));
      expect(isPaymentMismatchError(error)).toBe(true);
      expect(
        (error as { mismatches: Array<{ field: string }> }).mismatches.map((m) => m.field),
      ).toEqual([field]);
      expect((error as Error).message).toContain(field);
      // Looking the chain up is allowed (is a linked transaction ours?); sending is not.
      expect(sandbox.requests().some((r) => r.face === "horizon" && r.method === "POST")).toBe(
        false,
      );
      expect(sandbox.ledgerPayments()).toEqual([]);
    });
  });

  describe("bad input is a typed validation error and nothing is sent", () => {
    const good = { amount: "1", memo: "m", metadata: { a: 1 }, uid: "user-1" };
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const paymentCases: Array<[string, unknown]> = [
      ["amount 0", { ...good, amount: 0 }],
      ["amount negative", { ...good, amount: -1 }],
      ["amount negative string", { ...good, amount: "-1" }],
      ["amount NaN", { ...good, amount: Number.NaN }],
      ["amount Infinity", { ...good, amount: Number.POSITIVE_INFINITY }],
      ["amount -Infinity", { ...good, amount: Number.NEGATIVE_INFINITY }],
      ["amount with 8 decimals (string)", { ...good, amount: "1.12345678" }],
      ["amount with 8 decimals (number)", { ...good, amount: 1.12345678 }],
      ["amount 0.1 + 0.2", { ...good, amount: 0.1 + 0.2 }],
      ["amount in exponent form", { ...good, amount: "1e-7" }],
      ["amount in upper exponent form", { ...good, amount: "2E3" }],
      ["amount non-numeric", { ...good, amount: "ten" }],
      ["amount empty", { ...good, amount: "" }],
      ["amount null", { ...good, amount: null }],
      ["amount an object", { ...good, amount: { value: 1 } }],
      ["amount a bigint", { ...good, amount: 1n }],
      ["memo a number", { ...good, memo: 1 }],
      ["memo empty", { ...good, memo: "" }],
      ["memo null", { ...good, memo: null }],
      ["metadata an array", { ...good, metadata: [1] }],
      ["metadata null", { ...good, metadata: null }],
      ["metadata a string", { ...good, metadata: "{}" }],
      ["metadata circular", { ...good, metadata: circular }],
      ["metadata with a function", { ...good, metadata: { f() {} } }],
      ["uid a number", { ...good, uid: 7 }],
      ["uid empty", { ...good, uid: "" }],
      ["uid missing", { amount: "1", memo: "m", metadata: {} }],
      ["an unknown key", { ...good, reciever: "x" }],
      ["not an object", "pay 1 Pi"],
    ];

    test.each(paymentCases)("createPayment with %s", async (_name, args) => {
      const sandbox = await testSandbox();
      const pi = new PiNetwork(optionsFor(sandbox));
      const error = await errorOf(pi.createPayment(args as never));
      expect(isValidationError(error)).toBe(true);
      expect(sandbox.requests()).toEqual([]);
    });

    const seed = Keypair.random().secret();
    const optionCases: Array<[string, (s: Sandbox) => unknown]> = [
      ["an unknown option key", (s) => ({ ...optionsFor(s), walletSecret: "x" })],
      ["a malformed seed", (s) => ({ ...optionsFor(s), walletSeed: "SNOTASEED" })],
      [
        "a seed with a broken checksum",
        (s) => ({
          ...optionsFor(s),
          walletSeed: `${seed.slice(0, 55)}${seed.endsWith("A") ? "B" : "A"}`,
        }),
      ],
      [
        "a public key instead of a seed",
        (s) => ({ ...optionsFor(s), walletSeed: s.walletAddress }),
      ],
      ["an empty seed", (s) => ({ ...optionsFor(s), walletSeed: "" })],
      ["an unknown network name", (s) => ({ ...optionsFor(s), network: "Pi Mainnet" })],
      ["a network in the wrong case", (s) => ({ ...optionsFor(s), network: "pi testnet" })],
      ["an empty API key", (s) => ({ ...optionsFor(s), apiKey: "" })],
      ["an API URL that is not a URL", (s) => ({ ...optionsFor(s), apiUrl: "api.minepi.com" })],
    ];

    test.each(optionCases)("new PiNetwork with %s", async (_name, make) => {
      const sandbox = await testSandbox();
      let thrown: unknown;
      try {
        new PiNetwork(make(sandbox) as PiNetworkOptions);
      } catch (error) {
        thrown = error;
      }
      expect(isValidationError(thrown)).toBe(true);
      expect(`${inspect(thrown)} ${JSON.stringify(thrown)}`).not.toContain(sandbox.walletSeed);
      expect(sandbox.requests()).toEqual([]);
    });

    test.each([
      ["getPayment with a path", (pi: PiNetwork) => pi.getPayment("../me")],
      ["cancelPayment with an empty id", (pi: PiNetwork) => pi.cancelPayment("")],
      ["submitPayment with a slash", (pi: PiNetwork) => pi.submitPayment("a/b")],
      ["completePayment with a bad txid", (pi: PiNetwork) => pi.completePayment("abc", "xyz")],
      ["me with an empty token", (pi: PiNetwork) => pi.me("")],
    ])("%s", async (_name, call) => {
      const sandbox = await testSandbox();
      const error = await errorOf(call(new PiNetwork(optionsFor(sandbox))));
      expect(isValidationError(error)).toBe(true);
      expect(sandbox.requests()).toEqual([]);
    });

    test("a seed of another wallet: refused before anything reaches the chain", async () => {
      const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
      const id = await new PiNetwork(optionsFor(sandbox)).createPayment(good);
      sandbox.clearRequests();
      const stranger = new PiNetwork(
        optionsFor(sandbox, { walletSeed: Keypair.random().secret() }),
      );
      const error = await errorOf(stranger.submitPayment(id));
      expect(isPaymentMismatchError(error)).toBe(true);
      expect(
        (error as { mismatches: Array<{ field: string }> }).mismatches.map((m) => m.field),
      ).toEqual(["from_address"]);
      expect(sandbox.requests().map((r) => `${r.method} ${r.path}`)).toEqual([
        `GET /v2/payments/${id}`,
      ]);
    });
  });

  test("secrets appear in no error, no inspection and no serialisation", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      faults: [{ route: "POST /v2/payments", kind: "error", status: 500, body: "html" }],
    });
    const pi = new PiNetwork(optionsFor(sandbox));
    const failures = [
      await errorOf(pi.createPayment({ amount: 1, memo: "m", metadata: {}, uid: "user-1" })),
      await errorOf(
        new PiNetwork(
          optionsFor(sandbox, { apiKey: "another-key-xyz" }),
        ).getIncompleteServerPayments(),
      ),
    ];
    for (const failure of failures) {
      expect(isPiPaymentsError(failure)).toBe(true);
      const text = `${inspect(failure, { depth: 30, showHidden: true })} ${JSON.stringify(failure)} ${(failure as Error).stack}`;
      expect(text).not.toContain(sandbox.apiKey);
      expect(text).not.toContain("another-key-xyz");
      expect(text).not.toContain(sandbox.walletSeed);
    }
    expect(inspect(pi, { depth: 30, showHidden: true })).not.toContain(sandbox.walletSeed);
    expect(inspect(pi, { depth: 30, showHidden: true })).not.toContain(sandbox.apiKey);
  });
});
