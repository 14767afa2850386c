import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { isValidationError } from "../../src/domain/errors.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { testSandbox } from "../helpers/sandbox.js";
import { horizonOf, resultCodesOf, signedPayment, submitAndClose } from "../helpers/stellar.js";

async function admin(sandbox: Sandbox, method: string, path: string, body?: unknown) {
  const response = await fetch(`${sandbox.apiUrl}/__sandbox${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read the admin answers field by field.
  return { status: response.status, body: (await response.json()) as any };
}

describe("funding accounts", () => {
  test("fund creates a missing account and adds to an existing one, as Horizon then shows", async () => {
    const sandbox = await testSandbox();
    const fresh = Keypair.random().publicKey();
    expect(sandbox.fund(fresh, "10")).toBe("10.0000000");
    expect(sandbox.fund(fresh, "2.5")).toBe("12.5000000");
    const account = await horizonOf(sandbox).loadAccount(fresh);
    expect(account.balances[0]?.balance).toBe("12.5000000");
    expect(sandbox.fund(sandbox.walletAddress, "0.0000001")).toBe("100000.0000001");
  });

  test("fund refuses a bad amount or address with a validation error and changes nothing", async () => {
    const sandbox = await testSandbox();
    const fresh = Keypair.random().publicKey();
    for (const [address, amount] of [
      [fresh, "0"],
      [fresh, "-1"],
      [fresh, "1.12345678"],
      [fresh, "ten"],
      ["GNOTANADDRESS", "1"],
    ] as const) {
      const error = (() => {
        try {
          sandbox.fund(address, amount);
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(isValidationError(error)).toBe(true);
    }
    expect(sandbox.balance(fresh)).toBeUndefined();
  });

  test("POST /__sandbox/fund funds the app wallet by default, or the address given", async () => {
    const sandbox = await testSandbox();
    expect(await admin(sandbox, "POST", "/fund", { amount: "10" })).toEqual({
      status: 200,
      body: { address: sandbox.walletAddress, balance: "100010.0000000" },
    });
    const fresh = Keypair.random().publicKey();
    expect((await admin(sandbox, "POST", "/fund", { address: fresh, amount: "3" })).body).toEqual({
      address: fresh,
      balance: "3.0000000",
    });
    const refused = await admin(sandbox, "POST", "/fund", { address: fresh, amount: 3 });
    expect([refused.status, refused.body.error]).toEqual([400, "invalid_arguments"]);
    expect((await admin(sandbox, "POST", "/fund", {})).status).toBe(400);
    expect(sandbox.balance(fresh)).toBe("3.0000000");
  });

  test("setBalance and PUT /__sandbox/balance set a balance, so that a payment is underfunded", async () => {
    const sandbox = await testSandbox();
    expect(sandbox.setBalance(sandbox.walletAddress, "2")).toBe("2.0000000");
    const tx = await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "5" });
    const error = await submitAndClose(sandbox, tx).catch((e: unknown) => e);
    expect(resultCodesOf(error)).toEqual({
      transaction: "tx_failed",
      operations: ["op_underfunded"],
    });

    const user = sandbox.users[1]!.address!;
    expect((await admin(sandbox, "PUT", "/balance", { address: user, amount: "0" })).body).toEqual({
      address: user,
      balance: "0.0000000",
    });
    expect(sandbox.balance(user)).toBe("0.0000000");
  });
});
