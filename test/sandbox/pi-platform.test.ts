import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { eventually, piFetch, testSandbox } from "../helpers/sandbox.js";
import { signedPayment, submitAndClose } from "../helpers/stellar.js";

const args = (uid: string, extra: Record<string, unknown> = {}) => ({
  payment: { amount: 1, memo: "test", metadata: { k: "v" }, uid, ...extra },
});

async function create(
  sandbox: Sandbox,
  uid = sandbox.users[0]!.uid,
  extra: Record<string, unknown> = {},
) {
  const answer = await piFetch(sandbox, "POST", "/v2/payments", args(uid, extra));
  expect(answer.status).toBe(200);
  return answer.body;
}

async function pay(
  sandbox: Sandbox,
  payment: { identifier: string; to_address: string; amount: number },
  amount?: string,
) {
  const tx = await signedPayment(sandbox, {
    to: payment.to_address,
    amount: amount ?? String(payment.amount),
    memo: payment.identifier,
  });
  await submitAndClose(sandbox, tx);
  return tx.hash().toString("hex");
}

describe("the sandbox's Pi Platform API", () => {
  test("payment endpoints want `Key <api key>` and answer 401 otherwise", async () => {
    const sandbox = await testSandbox();
    for (const auth of ["", "Key wrong", `Bearer ${sandbox.apiKey}`]) {
      const answer = await piFetch(
        sandbox,
        "GET",
        "/v2/payments/incomplete_server_payments",
        undefined,
        { Authorization: auth },
      );
      expect(answer.status).toBe(401);
    }
  });

  test("/v2/me answers the user behind a Bearer token, 401 otherwise", async () => {
    const sandbox = await testSandbox();
    const user = sandbox.users[1]!;
    const me = await piFetch(sandbox, "GET", "/v2/me", undefined, {
      Authorization: `Bearer ${user.accessToken}`,
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      uid: user.uid,
      username: user.username,
      credentials: { scopes: expect.arrayContaining(["payments"]) },
    });
    expect(
      (await piFetch(sandbox, "GET", "/v2/me", undefined, { Authorization: "Bearer nope" })).status,
    ).toBe(401);
    expect((await piFetch(sandbox, "GET", "/v2/me")).status).toBe(401);
  });

  test("create refuses bad arguments with Pi's codes", async () => {
    const sandbox = await testSandbox({
      users: [
        {},
        { uid: "no-scope", scopes: ["username"] },
        { uid: "no-wallet", wallet: false },
        { uid: "bad-wallet", wallet: "invalid" },
      ],
    });
    const uid = sandbox.users[0]!.uid;
    const cases: Array<[unknown, string]> = [
      [args(uid, { amount: -1 }), "invalid_amount"],
      [args(uid, { amount: 0 }), "invalid_amount"],
      [args(uid, { amount: 1.123456789 }), "invalid_amount"],
      [args(uid, { amount: "1" }), "invalid_amount"],
      [args(uid, { memo: 5 }), "invalid_arguments"],
      [args(uid, { metadata: "x" }), "invalid_metadata"],
      [args(uid, { metadata: null }), "invalid_metadata"],
      [{ amount: 1 }, "invalid_arguments"],
      [args("nobody"), "user_not_found"],
      [args("no-scope"), "missing_scope"],
      [args("no-wallet"), "missing_wallet"],
      [args("bad-wallet"), "invalid_address"],
    ];
    for (const [body, code] of cases) {
      const answer = await piFetch(sandbox, "POST", "/v2/payments", body);
      expect({ status: answer.status, error: answer.body.error }).toEqual({
        status: 400,
        error: code,
      });
      expect(typeof answer.body.error_message).toBe("string");
    }
    const broken = await fetch(`${sandbox.apiUrl}/v2/payments`, {
      method: "POST",
      headers: { Authorization: `Key ${sandbox.apiKey}`, "Content-Type": "application/json" },
      body: "{not json",
    });
    expect(((await broken.json()) as { error: string }).error).toBe("invalid_arguments");
    expect(sandbox.payments()).toHaveLength(0);
  });

  test("one incomplete A2U payment per app: a second create answers ongoing_payment_found with the blocking payment", async () => {
    const sandbox = await testSandbox();
    const first = await create(sandbox, sandbox.users[0]!.uid);
    const second = await piFetch(sandbox, "POST", "/v2/payments", args(sandbox.users[1]!.uid));
    expect(second.status).toBe(400);
    expect(second.body).toMatchObject({
      error: "ongoing_payment_found",
      error_message: "You need to complete the ongoing payment first to create a new one.",
      payment: { identifier: first.identifier },
    });
    const incomplete = await piFetch(sandbox, "GET", "/v2/payments/incomplete_server_payments");
    expect(
      incomplete.body.incomplete_server_payments.map((p: { identifier: string }) => p.identifier),
    ).toEqual([first.identifier]);
    await piFetch(sandbox, "POST", `/v2/payments/${first.identifier}/cancel`);
    await create(sandbox, sandbox.users[1]!.uid);
  });

  test("with the per-user rule, different users may each have an incomplete payment", async () => {
    const sandbox = await testSandbox({ incompleteLimit: "user" });
    await create(sandbox, sandbox.users[0]!.uid);
    await create(sandbox, sandbox.users[1]!.uid);
    const again = await piFetch(sandbox, "POST", "/v2/payments", args(sandbox.users[0]!.uid));
    expect(again.body.error).toBe("ongoing_payment_found");
  });

  test("too_many_payments and too_many_cancelled_payments after their settable counts", async () => {
    const sandbox = await testSandbox({ maxCancelledPayments: 2, maxPayments: 3 });
    for (let i = 0; i < 2; i++) {
      const p = await create(sandbox);
      await piFetch(sandbox, "POST", `/v2/payments/${p.identifier}/cancel`);
    }
    expect(
      (await piFetch(sandbox, "POST", "/v2/payments", args(sandbox.users[0]!.uid))).body.error,
    ).toBe("too_many_cancelled_payments");
    const limited = await testSandbox({ maxPayments: 1 });
    const p = await create(limited);
    await piFetch(limited, "POST", `/v2/payments/${p.identifier}/cancel`);
    expect(
      (await piFetch(limited, "POST", "/v2/payments", args(limited.users[0]!.uid))).body.error,
    ).toBe("too_many_payments");
  });

  test("unknown payments answer 404 payment_not_found everywhere", async () => {
    const sandbox = await testSandbox();
    for (const [method, path] of [
      ["GET", "/v2/payments/nope"],
      ["POST", "/v2/payments/nope/complete"],
      ["POST", "/v2/payments/nope/cancel"],
      ["POST", "/v2/payments/nope/approve"],
    ] as const) {
      const answer = await piFetch(
        sandbox,
        method,
        path,
        method === "POST" ? { txid: "a".repeat(64) } : undefined,
      );
      expect({ status: answer.status, error: answer.body.error }).toEqual({
        status: 404,
        error: "payment_not_found",
      });
    }
  });

  test("complete verifies the transaction: missing_txid, not_verified, identifier mismatch, already linked, already_completed", async () => {
    const sandbox = await testSandbox({ incompleteLimit: "user" });
    const payment = await create(sandbox, sandbox.users[0]!.uid);
    const other = await create(sandbox, sandbox.users[1]!.uid);
    const complete = (id: string, body: unknown) =>
      piFetch(sandbox, "POST", `/v2/payments/${id}/complete`, body);

    expect((await complete(payment.identifier, {})).body.error).toBe("missing_txid");
    expect((await complete(payment.identifier, { txid: "f".repeat(64) })).body.error).toBe(
      "not_verified",
    );

    const otherTxid = await pay(sandbox, other);
    const wrong = await complete(payment.identifier, { txid: otherTxid });
    expect(wrong.body).toMatchObject({
      error: "verification_failed",
      verification_error: "tx_memo_payment_identifier_mismatch",
    });

    const txid = await pay(sandbox, payment);
    expect((await complete(payment.identifier, { txid })).status).toBe(200);
    const again = await complete(payment.identifier, { txid });
    expect(again.body).toMatchObject({
      error: "already_completed",
      payment: { identifier: payment.identifier },
    });

    // The other payment's transaction is linked to it; using it for a third payment fails.
    expect((await complete(other.identifier, { txid: otherTxid })).status).toBe(200);
    const third = await create(sandbox, sandbox.users[2]!.uid);
    sandbox.platform.update(third.identifier, (p) => {
      p.identifier = third.identifier;
    });
    const reused = await complete(third.identifier, { txid: otherTxid });
    expect(reused.body.error).toBe("verification_failed");
  });

  test("a linked transaction that fails verification leaves the payment stuck: neither completed nor cancelled", async () => {
    const sandbox = await testSandbox();
    const payment = await create(sandbox);
    const txid = await pay(sandbox, payment, "0.5");
    const stored = sandbox.payments()[0]!;
    expect(stored.transaction).toMatchObject({ txid, verified: false });
    const completed = await piFetch(
      sandbox,
      "POST",
      `/v2/payments/${payment.identifier}/complete`,
      { txid },
    );
    expect(completed.body).toMatchObject({
      error: "verification_failed",
      verification_error: "tx_amount_mismatch",
    });
    const cancelled = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/cancel`);
    expect(cancelled.body).toMatchObject({
      error: "payment_tx_present",
      error_message:
        "You cannot cancel this payment, because an associated blockchain transaction has been recorded.",
    });
  });

  test("txid_mismatch once another transaction is linked", async () => {
    const sandbox = await testSandbox();
    const payment = await create(sandbox);
    const first = await pay(sandbox, payment);
    const second = await pay(sandbox, payment);
    expect(sandbox.payments()[0]!.transaction?.txid).toBe(first);
    const answer = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/complete`, {
      txid: second,
    });
    expect(answer.body.error).toBe("txid_mismatch");
  });

  test("cancel: cancelled_payment when repeated, already_completed once completed, and complete of a cancelled payment fails", async () => {
    const sandbox = await testSandbox();
    const payment = await create(sandbox);
    const cancel = () => piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/cancel`);
    expect((await cancel()).body.status.cancelled).toBe(true);
    expect((await cancel()).body.error).toBe("cancelled_payment");
    const complete = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/complete`, {
      txid: "a".repeat(64),
    });
    expect(complete.body.error).toBe("cancelled_payment");

    const done = await create(sandbox);
    const txid = await pay(sandbox, done);
    await piFetch(sandbox, "POST", `/v2/payments/${done.identifier}/complete`, { txid });
    expect(
      (await piFetch(sandbox, "POST", `/v2/payments/${done.identifier}/cancel`)).body.error,
    ).toBe("already_completed");
  });

  test("U2A: approve, pay from the user's wallet, complete; an approved U2A payment cannot be cancelled (forbidden)", async () => {
    const sandbox = await testSandbox();
    const user = sandbox.users[0]!;
    const payment = sandbox.createUserPayment({ uid: user.uid, amount: 2, memo: "buy" });
    expect(payment).toMatchObject({
      direction: "user_to_app",
      status: { developer_approved: false },
    });
    const approved = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/approve`);
    expect(approved.body.status.developer_approved).toBe(true);
    expect(
      (await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/cancel`)).body.error,
    ).toBe("forbidden");
    const tx = await signedPayment(sandbox, {
      seed: user.seed!,
      to: sandbox.walletAddress,
      amount: "2",
      memo: payment.identifier,
    });
    await submitAndClose(sandbox, tx);
    const done = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/complete`, {
      txid: tx.hash().toString("hex"),
    });
    expect(done.body.status.developer_completed).toBe(true);
    // U2A payments never count as incomplete server payments.
    expect(
      (await piFetch(sandbox, "GET", "/v2/payments/incomplete_server_payments")).body
        .incomplete_server_payments,
    ).toEqual([]);
  });

  test("Pi links a landed transaction by memo: at once with lag 0", async () => {
    const sandbox = await testSandbox({ linkLagMs: 0 });
    const payment = await create(sandbox);
    const txid = await pay(sandbox, payment);
    expect(sandbox.payments()[0]!.transaction).toMatchObject({ txid, verified: true });
    expect(sandbox.payments()[0]!.status.transaction_verified).toBe(true);
  });

  test("with a lag, a payment can be cancelled after its transaction landed: the danger recovery must avoid", async () => {
    const sandbox = await testSandbox({ linkLagMs: 150 });
    const payment = await create(sandbox);
    const txid = await pay(sandbox, payment);
    expect(sandbox.payments()[0]!.transaction).toBeNull();
    const cancelled = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(sandbox.ledgerPayments().map((p) => p.txid)).toEqual([txid]);

    const second = await create(sandbox);
    const secondTxid = await pay(sandbox, second);
    await eventually(() => sandbox.payments()[1]!.transaction !== null);
    expect(sandbox.payments()[1]!.transaction?.txid).toBe(secondTxid);
  });

  test("with lag `never`, Pi never links by itself, but complete still verifies and links", async () => {
    const sandbox = await testSandbox({ linkLagMs: "never" });
    const payment = await create(sandbox);
    const txid = await pay(sandbox, payment);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(sandbox.payments()[0]!.transaction).toBeNull();
    const done = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/complete`, {
      txid,
    });
    expect(done.body.transaction.txid).toBe(txid);
  });

  test("identifiers are 28 letters and digits and unique; the same seed gives the same ids", async () => {
    const a = await testSandbox({ seed: 7, incompleteLimit: "user", users: 5 });
    const b = await testSandbox({ seed: 7, incompleteLimit: "user", users: 5 });
    const ids = async (s: Sandbox) => {
      const out: string[] = [];
      for (const user of s.users) out.push((await create(s, user.uid)).identifier);
      return out;
    };
    const fromA = await ids(a);
    expect(new Set(fromA).size).toBe(5);
    for (const id of fromA) expect(id).toMatch(/^[A-Za-z0-9]{28}$/);
    expect(await ids(b)).toEqual(fromA);
    expect(a.walletAddress).toBe(b.walletAddress);
    expect(Keypair.fromSecret(a.walletSeed).publicKey()).toBe(a.walletAddress);
  });
});
