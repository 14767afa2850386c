import { describe, expect, test } from "vitest";
import type { PiPlatform } from "../../src/adapters/index.js";
import { isPiApiError, parseAmount, parsePaymentArgs } from "../../src/domain/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { signedPayment, submitAndClose } from "../helpers/stellar.js";

/** What a contract run needs: a fresh sandbox and the implementation under test pointed at it. */
export type PlatformSetup = () => Promise<{ sandbox: Sandbox; platform: PiPlatform }>;

/**
 * The Pi Platform port's contract: what every implementation must do, checked against the
 * sandbox over HTTP. A new adapter (a proxy, a cache) calls this with its own setup.
 */
export function piPlatformContract(name: string, setup: PlatformSetup): void {
  describe(`PiPlatform contract: ${name}`, () => {
    const argsFor = (uid: string, amount = "1.5") =>
      parsePaymentArgs({ amount, memo: "contract", metadata: { suite: "contract" }, uid });

    test("creates an A2U payment and gets it back", async () => {
      const { sandbox, platform } = await setup();
      const uid = sandbox.users[0]!.uid;
      const created = await platform.createPayment(argsFor(uid));
      expect(created).toMatchObject({
        user_uid: uid,
        amount: 1.5,
        direction: "app_to_user",
        transaction: null,
      });
      expect(await platform.getPayment(created.identifier)).toEqual(created);
    });

    test("lists the incomplete server payments", async () => {
      const { sandbox, platform } = await setup();
      expect(await platform.incompleteServerPayments()).toEqual([]);
      const created = await platform.createPayment(argsFor(sandbox.users[0]!.uid));
      expect((await platform.incompleteServerPayments()).map((p) => p.identifier)).toEqual([
        created.identifier,
      ]);
    });

    test("completes a paid payment, and completing again with the same txid succeeds", async () => {
      const { sandbox, platform } = await setup();
      const created = await platform.createPayment(argsFor(sandbox.users[0]!.uid));
      const tx = await signedPayment(sandbox, {
        to: created.to_address,
        amount: "1.5",
        memo: created.identifier,
      });
      await submitAndClose(sandbox, tx);
      const txid = tx.hash().toString("hex");
      const completed = await platform.completePayment(created.identifier, txid);
      expect(completed.status.developer_completed).toBe(true);
      expect(completed.transaction?.txid).toBe(txid);
      expect(await platform.completePayment(created.identifier, txid)).toMatchObject({
        identifier: created.identifier,
      });
    });

    test("cancels, and cancelling again succeeds", async () => {
      const { sandbox, platform } = await setup();
      const created = await platform.createPayment(argsFor(sandbox.users[0]!.uid));
      expect((await platform.cancelPayment(created.identifier)).status.cancelled).toBe(true);
      expect((await platform.cancelPayment(created.identifier)).status.cancelled).toBe(true);
    });

    test("approves a user-to-app payment", async () => {
      const { sandbox, platform } = await setup();
      const u2a = sandbox.createUserPayment({ uid: sandbox.users[0]!.uid, amount: 1, memo: "u2a" });
      expect((await platform.approvePayment(u2a.identifier)).status.developer_approved).toBe(true);
    });

    test("tells who a user is from their access token", async () => {
      const { sandbox, platform } = await setup();
      const user = sandbox.users[2]!;
      expect(await platform.me(user.accessToken)).toMatchObject({
        uid: user.uid,
        username: user.username,
      });
    });

    test("a refused create is a typed error that carries Pi's code and the blocking payment", async () => {
      const { sandbox, platform } = await setup();
      const blocking = await platform.createPayment(argsFor(sandbox.users[0]!.uid));
      const error = await platform
        .createPayment(argsFor(sandbox.users[1]!.uid, "2"))
        .catch((e: unknown) => e);
      expect(isPiApiError(error)).toBe(true);
      expect(error).toMatchObject({
        code: "PI_ONGOING_PAYMENT_FOUND",
        piCode: "ongoing_payment_found",
        status: 400,
      });
      expect((error as { payment: { identifier: string } }).payment.identifier).toBe(
        blocking.identifier,
      );
      expect(parseAmount((error as { payment: { amount: number } }).payment.amount)).toBe("1.5");
    });
  });
}
