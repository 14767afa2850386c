import { AccountRequiresMemoError, type Transaction } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { isValidationError } from "../../src/domain/errors.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { testSandbox } from "../helpers/sandbox.js";
import { horizonOf, signedPayment } from "../helpers/stellar.js";

/** Submits through stellar-sdk WITH its memo-required check, closing a ledger once it is queued. */
async function submitChecked(sandbox: Sandbox, tx: Transaction): Promise<unknown> {
  const answer = horizonOf(sandbox)
    .submitTransaction(tx)
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  let settled = false;
  void answer.then(() => {
    settled = true;
  });
  while (!settled) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (sandbox.chain.pendingCount() > 0) await sandbox.closeLedger();
  }
  const result = await answer;
  if (!result.ok) throw result.error;
  return result.value;
}

describe("account data entries", () => {
  test("an account record has `data: {}` without entries and SEP-29's base64 memo_required flag with memoRequired", async () => {
    const sandbox = await testSandbox({ users: [{}, { uid: "exchange", memoRequired: true }] });
    const [plain, exchange] = sandbox.users;
    const record = async (address: string) =>
      // biome-ignore lint/suspicious/noExplicitAny: tests read Horizon's JSON field by field.
      (await (await fetch(`${sandbox.horizonUrl}/accounts/${address}`)).json()) as any;
    expect(await record(plain!.address!)).toMatchObject({ data: {}, subentry_count: 0 });
    expect(await record(exchange!.address!)).toMatchObject({
      data: { "config.memo_required": "MQ==" },
      subentry_count: 1,
    });
  });

  test("stellar-sdk's memo-required check passes a memo payment to a memoRequired account and refuses one without", async () => {
    const sandbox = await testSandbox({ users: [{}, { uid: "exchange", memoRequired: true }] });
    const [plain, exchange] = sandbox.users;

    const withMemo = await signedPayment(sandbox, {
      to: exchange!.address!,
      amount: "1",
      memo: "deposit-42",
    });
    expect(await submitChecked(sandbox, withMemo)).toMatchObject({ successful: true });

    const withoutMemo = await signedPayment(sandbox, { to: exchange!.address!, amount: "1" });
    const refused = await submitChecked(sandbox, withoutMemo).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AccountRequiresMemoError);
    expect((refused as AccountRequiresMemoError).accountId).toBe(exchange!.address);

    // The check reads `data` of every destination: a plain account passes without a memo.
    const toPlain = await signedPayment(sandbox, { to: plain!.address!, amount: "1" });
    expect(await submitChecked(sandbox, toPlain)).toMatchObject({ successful: true });
    expect(sandbox.ledgerPayments().map((p) => p.to)).toEqual([exchange!.address, plain!.address]);
  });

  test("a data entry reads back through Horizon's data endpoint, base64 as stored", async () => {
    const sandbox = await testSandbox({ users: [{ uid: "exchange", memoRequired: true }] });
    const base = `${sandbox.horizonUrl}/accounts/${sandbox.users[0]!.address}/data`;
    const entry = await fetch(`${base}/config.memo_required`);
    expect([entry.status, await entry.json()]).toEqual([200, { value: "MQ==" }]);
    expect((await fetch(`${base}/no.such.key`)).status).toBe(404);
  });

  test("a data entry raises the account's minimum balance by one base reserve", async () => {
    const sandbox = await testSandbox({
      users: [{ uid: "exchange", memoRequired: true, balance: "2" }],
    });
    const exchange = sandbox.users[0]!;
    // 2 Pi - 0.01 fee leaves 1.99; the minimum is 3 reserves of 0.5 = 1.5: 0.49 can go, 0.5 cannot.
    const tooMuch = await signedPayment(sandbox, {
      seed: exchange.seed!,
      to: sandbox.walletAddress,
      amount: "0.5",
    });
    const answer = horizonOf(sandbox)
      .submitTransaction(tooMuch, { skipMemoRequiredCheck: true })
      .catch((e: unknown) => e);
    while (sandbox.chain.pendingCount() === 0) await new Promise((r) => setTimeout(r, 2));
    await sandbox.closeLedger();
    expect(
      ((await answer) as { response: { data: { extras: { result_codes: unknown } } } }).response
        .data.extras.result_codes,
    ).toEqual({ transaction: "tx_failed", operations: ["op_underfunded"] });
  });

  test("memoRequired without a funded wallet is refused as a validation error", async () => {
    for (const user of [
      { memoRequired: true, balance: "0" as const },
      { memoRequired: true, wallet: false as const },
    ]) {
      const error = await testSandbox({ users: [user] }).catch((e: unknown) => e);
      expect(isValidationError(error)).toBe(true);
      expect((error as Error).message).toMatch(/memoRequired/);
    }
    const sandbox = await testSandbox({ users: 0 });
    expect(() => sandbox.addUser({ memoRequired: true, balance: "0" })).toThrow(/memoRequired/);
    expect(sandbox.users).toHaveLength(0);
  });
});
