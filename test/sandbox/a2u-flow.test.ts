import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { piFetch, testSandbox } from "../helpers/sandbox.js";
import { horizonOf, resultCodesOf, signedPayment, submitAndClose } from "../helpers/stellar.js";

describe("the sandbox through real clients", () => {
  test("a whole A2U payment: create, build, sign, submit, complete", async () => {
    const sandbox = await testSandbox();
    const user = sandbox.users[0]!;
    const created = await piFetch(sandbox, "POST", "/v2/payments", {
      payment: {
        amount: 3.14,
        memo: "Refund for apple pie",
        metadata: { order: 42 },
        uid: user.uid,
      },
    });
    expect(created.status).toBe(200);
    const payment = created.body;
    expect(payment).toMatchObject({
      user_uid: user.uid,
      amount: 3.14,
      memo: "Refund for apple pie",
      metadata: { order: 42 },
      from_address: sandbox.walletAddress,
      to_address: user.address,
      direction: "app_to_user",
      network: "Pi Testnet",
      status: {
        developer_approved: true,
        transaction_verified: false,
        developer_completed: false,
        cancelled: false,
        user_cancelled: false,
      },
      transaction: null,
    });
    expect(payment.identifier).toMatch(/^[A-Za-z0-9]{28}$/);
    expect(Number.isNaN(Date.parse(payment.created_at))).toBe(false);

    const tx = await signedPayment(sandbox, {
      to: payment.to_address,
      amount: "3.14",
      memo: payment.identifier,
    });
    const submitted = (await submitAndClose(sandbox, tx)) as {
      hash: string;
      ledger: number;
      successful: boolean;
    };
    expect(submitted.successful).toBe(true);
    expect(submitted.hash).toBe(tx.hash().toString("hex"));

    const completed = await piFetch(
      sandbox,
      "POST",
      `/v2/payments/${payment.identifier}/complete`,
      { txid: submitted.hash },
    );
    expect(completed.status).toBe(200);
    expect(completed.body.status).toMatchObject({
      developer_completed: true,
      transaction_verified: true,
    });
    expect(completed.body.transaction).toEqual({
      txid: submitted.hash,
      verified: true,
      _link: `${sandbox.horizonUrl}/transactions/${submitted.hash}`,
    });
    expect(sandbox.ledgerPayments()).toEqual([
      {
        txid: submitted.hash,
        memo: payment.identifier,
        from: sandbox.walletAddress,
        to: user.address,
        amount: "3.14",
        ledger: submitted.ledger,
      },
    ]);
    expect(sandbox.balance(user.address!)).toBe("103.1400000");
    // 100000 - 3.14 - 0.01 fee
    expect(sandbox.balance(sandbox.walletAddress)).toBe("99996.8500000");
  });

  test("the same envelope submitted twice lands once; the second answer repeats the first", async () => {
    const sandbox = await testSandbox();
    const horizon = horizonOf(sandbox);
    const tx = await signedPayment(sandbox, {
      to: sandbox.users[0]!.address!,
      amount: "1",
      memo: "twice",
    });
    const first = horizon.submitTransaction(tx, { skipMemoRequiredCheck: true });
    const second = horizon.submitTransaction(tx, { skipMemoRequiredCheck: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sandbox.closeLedger();
    const [a, b] = await Promise.all([first, second]);
    expect(a.hash).toBe(b.hash);
    const third = await horizon.submitTransaction(tx, { skipMemoRequiredCheck: true });
    expect(third.ledger).toBe(a.ledger);
    expect(sandbox.ledgerPayments()).toHaveLength(1);
  });

  test("a second, different transaction for the same payment also lands and is visible", async () => {
    const sandbox = await testSandbox();
    const user = sandbox.users[0]!;
    const { body: payment } = await piFetch(sandbox, "POST", "/v2/payments", {
      payment: { amount: 2, memo: "double", metadata: {}, uid: user.uid },
    });
    await submitAndClose(
      sandbox,
      await signedPayment(sandbox, { to: user.address!, amount: "2", memo: payment.identifier }),
    );
    await submitAndClose(
      sandbox,
      await signedPayment(sandbox, { to: user.address!, amount: "2", memo: payment.identifier }),
    );
    const forPayment = sandbox.ledgerPayments().filter((p) => p.memo === payment.identifier);
    expect(forPayment).toHaveLength(2);
    expect(new Set(forPayment.map((p) => p.txid)).size).toBe(2);
  });

  test("Horizon's reads answer as stellar-sdk expects", async () => {
    const sandbox = await testSandbox();
    const horizon = horizonOf(sandbox);
    const root = await horizon.root();
    expect(root.network_passphrase).toBe("Pi Testnet");
    expect(await horizon.fetchBaseFee()).toBe(100_000);
    const account = await horizon.loadAccount(sandbox.walletAddress);
    expect(account.balances[0]).toMatchObject({ asset_type: "native", balance: "100000.0000000" });
    await expect(horizon.loadAccount(Keypair.random().publicKey())).rejects.toThrow(/Not Found/);

    const tx = await signedPayment(sandbox, {
      to: sandbox.users[1]!.address!,
      amount: "0.5",
      memo: "memo-visible",
    });
    await submitAndClose(sandbox, tx);
    const record = await horizon.transactions().transaction(tx.hash().toString("hex")).call();
    expect(record).toMatchObject({
      successful: true,
      memo: "memo-visible",
      memo_type: "text",
      source_account: sandbox.walletAddress,
    });
    const history = await horizon
      .transactions()
      .forAccount(sandbox.walletAddress)
      .order("desc")
      .limit(5)
      .call();
    expect(history.records.map((r) => r.memo)).toEqual(["memo-visible"]);
    const ledgers = await horizon.ledgers().order("desc").limit(1).call();
    expect(ledgers.records[0]?.sequence).toBe(sandbox.chain.latest.sequence);
    const fees = await horizon.feeStats();
    expect(fees.last_ledger_base_fee).toBe("100000");
  });

  test("history pages through with cursors in both orders", async () => {
    const sandbox = await testSandbox();
    for (const memo of ["one", "two", "three"]) {
      await submitAndClose(
        sandbox,
        await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "1", memo }),
      );
    }
    const horizon = horizonOf(sandbox);
    const first = await horizon
      .transactions()
      .forAccount(sandbox.walletAddress)
      .order("desc")
      .limit(2)
      .call();
    expect(first.records.map((r) => r.memo)).toEqual(["three", "two"]);
    const next = await first.next();
    expect(next.records.map((r) => r.memo)).toEqual(["one"]);
    const asc = await horizon.transactions().order("asc").limit(10).call();
    expect(asc.records.map((r) => r.memo)).toEqual(["one", "two", "three"]);
  });

  test("transactions_async answers PENDING, then DUPLICATE, and the transaction lands at the next close", async () => {
    const sandbox = await testSandbox();
    const tx = await signedPayment(sandbox, {
      to: sandbox.users[0]!.address!,
      amount: "1",
      memo: "async",
    });
    const send = () =>
      fetch(`${sandbox.horizonUrl}/transactions_async`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ tx: tx.toEnvelope().toXDR("base64") }),
      });
    const first = await send();
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      tx_status: "PENDING",
      hash: tx.hash().toString("hex"),
    });
    expect(await (await send()).json()).toMatchObject({ tx_status: "DUPLICATE" });
    await sandbox.closeLedger();
    expect(sandbox.ledgerPayments()).toHaveLength(1);
    const bad = await signedPayment(sandbox, {
      to: sandbox.users[0]!.address!,
      amount: "1",
      sequence: "1",
    });
    const refused = await fetch(`${sandbox.horizonUrl}/transactions_async`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ tx: bad.toEnvelope().toXDR("base64") }),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ tx_status: "ERROR" });
  });

  test("friendbot funds a new account on Testnet only", async () => {
    const sandbox = await testSandbox();
    const fresh = Keypair.random().publicKey();
    const funded = await fetch(`${sandbox.horizonUrl}/friendbot?addr=${fresh}`);
    expect(funded.status).toBe(200);
    expect(sandbox.balance(fresh)).toBe("10000.0000000");
    expect((await fetch(`${sandbox.horizonUrl}/friendbot?addr=${fresh}`)).status).toBe(400);
    const mainnet = await testSandbox({ network: "Pi Network" });
    expect((await fetch(`${mainnet.horizonUrl}/friendbot?addr=${fresh}`)).status).toBe(404);
  });

  test("Horizon holds a submission until its ledger closes and answers 504 after its timeout", async () => {
    const sandbox = await testSandbox({ submitTimeoutMs: 100 });
    const horizon = horizonOf(sandbox);
    const tx = await signedPayment(sandbox, {
      to: sandbox.users[0]!.address!,
      amount: "1",
      memo: "slow",
    });
    const error = await horizon
      .submitTransaction(tx, { skipMemoRequiredCheck: true })
      .catch((e: unknown) => e);
    expect((error as { response?: { status?: number } }).response?.status).toBe(504);
    // A 504 means unknown, not failed: the transaction is still queued and lands.
    await sandbox.closeLedger();
    expect(sandbox.ledgerPayments()).toHaveLength(1);
  });

  test("with the one-transaction-per-account rule, a wallet lands one transaction per ledger", async () => {
    const sandbox = await testSandbox({ oneTransactionPerAccountPerLedger: true });
    const first = await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "1" });
    const second = await signedPayment(sandbox, {
      to: sandbox.users[1]!.address!,
      amount: "1",
      sequence: (
        BigInt((await horizonOf(sandbox).loadAccount(sandbox.walletAddress)).sequence) + 1n
      ).toString(),
    });
    const horizon = horizonOf(sandbox);
    const answers = Promise.all([
      horizon.submitTransaction(first, { skipMemoRequiredCheck: true }),
      new Promise((resolve) => setTimeout(resolve, 10)).then(() =>
        horizon.submitTransaction(second, { skipMemoRequiredCheck: true }),
      ),
    ]);
    // Both wait in the queue before any ledger closes (polled: a busy machine is slow).
    while (sandbox.chain.pendingCount() < 2) await new Promise((resolve) => setTimeout(resolve, 2));
    expect((await sandbox.closeLedger()).transactions).toBe(1);
    expect((await sandbox.closeLedger()).transactions).toBe(1);
    const [a, b] = await answers;
    expect(b.ledger).toBe(a.ledger + 1);
  });

  test("refusals carry Horizon's result codes", async () => {
    const sandbox = await testSandbox();
    const user = sandbox.users[0]!.address!;
    const codes = async (build: Parameters<typeof signedPayment>[1]) =>
      resultCodesOf(
        await submitAndClose(sandbox, await signedPayment(sandbox, build)).catch((e: unknown) => e),
      );

    expect(await codes({ to: user, amount: "1", sequence: "1" })).toEqual({
      transaction: "tx_bad_seq",
    });
    expect(await codes({ to: user, amount: "1", passphrase: "Pi Network" })).toEqual({
      transaction: "tx_bad_auth",
    });
    expect(await codes({ to: user, amount: "1", fee: "100" })).toEqual({
      transaction: "tx_insufficient_fee",
    });
    expect(await codes({ to: user, amount: "99999999" })).toEqual({
      transaction: "tx_failed",
      operations: ["op_underfunded"],
    });
    expect(await codes({ to: Keypair.random().publicKey(), amount: "1" })).toEqual({
      transaction: "tx_failed",
      operations: ["op_no_destination"],
    });
    const signedByOther = await signedPayment(sandbox, { to: user, amount: "1" });
    signedByOther.signatures.length = 0;
    signedByOther.sign(Keypair.random());
    expect(
      resultCodesOf(await submitAndClose(sandbox, signedByOther).catch((e: unknown) => e)),
    ).toEqual({
      transaction: "tx_bad_auth",
    });
    // A failed transaction is in the ledger: its fee is charged and its sequence used.
    const failedInLedger = sandbox.chain.transactions().filter((t) => !t.successful);
    expect(failedInLedger).toHaveLength(2);
    expect(sandbox.ledgerPayments()).toHaveLength(0);
  });

  test("a transaction past its time bound is refused with tx_too_late", async () => {
    const sandbox = await testSandbox();
    const tx = await signedPayment(sandbox, {
      to: sandbox.users[0]!.address!,
      amount: "1",
      timeoutSeconds: 6,
    });
    await sandbox.closeLedger();
    await sandbox.closeLedger();
    const error = await submitAndClose(sandbox, tx).catch((e: unknown) => e);
    expect(resultCodesOf(error)).toEqual({ transaction: "tx_too_late" });
  });

  test("an unfunded source account is refused with tx_no_source_account, a bad envelope as malformed", async () => {
    const sandbox = await testSandbox();
    const stranger = Keypair.random();
    sandbox.chain.createAccount(stranger.publicKey(), 50_000_000n);
    const tx = await signedPayment(sandbox, {
      to: sandbox.users[0]!.address!,
      amount: "1",
      seed: stranger.secret(),
    });
    sandbox.chain.accounts.delete(stranger.publicKey());
    expect(resultCodesOf(await submitAndClose(sandbox, tx).catch((e: unknown) => e))).toEqual({
      transaction: "tx_no_source_account",
    });
    const malformed = await fetch(`${sandbox.horizonUrl}/transactions`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "tx=not-an-envelope",
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { type: string }).type).toMatch(/transaction_malformed$/);
  });
});
