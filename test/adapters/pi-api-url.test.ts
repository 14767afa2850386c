import { describe, expect, test } from "vitest";
import { createPayouts, createPiPlatform, PiNetwork } from "../../src/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { testSandbox } from "../helpers/sandbox.js";

// Pi documents its endpoints as https://api.minepi.com/v2/…, and the sandbox used to print
// its URL with /v2: a base URL given with /v2 must reach the same endpoints as one without.
describe("a Pi API URL given with /v2", () => {
  test.each(["", "/", "/v2", "/v2/"])(
    "createPiPlatform({ baseUrl: sandbox + %j }) reaches Pi's endpoints",
    async (suffix) => {
      const sandbox = await testSandbox();
      const platform = createPiPlatform({
        apiKey: sandbox.apiKey,
        baseUrl: `${sandbox.apiUrl}${suffix}`,
        retry: false,
      });
      expect(await platform.incompleteServerPayments()).toEqual([]);
      expect(sandbox.requests().map((r) => r.path)).toEqual([
        "/v2/payments/incomplete_server_payments",
      ]);
    },
  );

  test("PiNetwork({ apiUrl: …/v2 }) creates a payment", async () => {
    const sandbox = await testSandbox();
    const pi = new PiNetwork({
      apiKey: sandbox.apiKey,
      walletSeed: sandbox.walletSeed,
      network: sandbox.network,
      apiUrl: `${sandbox.apiUrl}/v2`,
      horizonUrl: sandbox.horizonUrl,
    });
    const paymentId = await pi.createPayment({
      amount: 1,
      memo: "m",
      metadata: {},
      uid: sandbox.users[0]!.uid,
    });
    expect((await pi.getPayment(paymentId)).identifier).toBe(paymentId);
  });

  test("createPayouts({ apiUrl: …/v2/ }) completes a payout", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 5 });
    const payouts = createPayouts({
      apiKey: sandbox.apiKey,
      walletSeed: sandbox.walletSeed,
      network: sandbox.network,
      apiUrl: `${sandbox.apiUrl}/v2/`,
      horizonUrl: sandbox.horizonUrl,
      store: createMemoryStore(),
      backoff: { baseDelayMs: 2, maxDelayMs: 20 },
      slotPollMs: 5,
      pollMs: 5,
    });
    try {
      const payout = await payouts.pay({
        key: "v2-url",
        uid: sandbox.users[0]!.uid,
        amount: "1",
        memo: "m",
      });
      expect(payout.failure).toBeNull();
      expect(payout.state).toBe("completed");
    } finally {
      await payouts.close();
    }
  });
});
