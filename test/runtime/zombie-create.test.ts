import { expect, test } from "vitest";
import { createPiChain, createPiPlatform } from "../../src/adapters/index.js";
import { startSandbox } from "../../src/sandbox/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { testPayouts } from "../helpers/payouts.js";

/**
 * A runtime stopped (crashed, or its lease lost) while its create effect waits on Pi's
 * incomplete list (a 503 retried by ky, a slow answer): the effect goes on after the stop.
 * Meanwhile another runtime adopts the payment and completes the payout; the stopped one's
 * look then finds nothing and it POSTs a second create: a stray holding Pi's slot.
 */
test("a stopped runner's create effect sends no create after the stop", async () => {
  const sandbox = await startSandbox({
    seed: 549808428,
    users: 4,
    ledgerIntervalMs: "manual",
    clock: "simulated",
    incompleteLimit: "app",
    linkLagMs: "never",
    submitTimeoutMs: 200,
    requestLogLimit: 0,
  });
  const closer = setInterval(() => sandbox.chain.closeLedger(), 3);
  const store = createMemoryStore();
  // The first runtime's look at Pi's incomplete list (after its create's answer was lost)
  // is held until released: a ky retry backoff after a 503, or a slow network.
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let holding!: () => void;
  const isHolding = new Promise<void>((r) => {
    holding = r;
  });
  let creates = 0;
  const slowFetch: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = (input instanceof Request ? input.method : init?.method) ?? "GET";
    if (method === "POST" && url.endsWith("/v2/payments")) creates += 1;
    if (url.includes("incomplete_server_payments") && creates >= 1) {
      holding();
      await held;
    }
    return fetch(input, init);
  };
  // Fast timings, and one process's owner name for both runtimes (as after a restart).
  const options = {
    store,
    owner: "instance",
    incompleteLimit: "app" as const,
    backoff: { baseDelayMs: 1, maxDelayMs: 8 },
    slotPollMs: 2,
    pollMs: 2,
    leaseMs: 500,
    createGraceMs: 40,
  };
  const chainOf = () =>
    createPiChain({
      network: sandbox.network,
      walletSeed: sandbox.walletSeed,
      horizonUrl: sandbox.horizonUrl,
      timeBoundSeconds: 30,
    });
  try {
    const first = testPayouts(sandbox, {
      ...options,
      chain: chainOf(),
      platform: createPiPlatform({
        apiKey: sandbox.apiKey,
        baseUrl: sandbox.apiUrl,
        fetch: slowFetch,
      }),
    });
    sandbox.addFaults([{ route: "POST /v2/payments", kind: "drop", times: 1 }]);
    void first
      .pay({ key: "key-0", uid: "user-1", amount: "1.0", memo: "payout 0" })
      .catch(() => undefined);
    await isHolding; // the create was applied, its answer lost; the look-first is in flight
    await first.close({ abandon: true }); // crash

    const second = testPayouts(sandbox, { ...options, chain: chainOf() });
    await second.resume();
    expect((await second.get("key-0"))?.state).toBe("completed");

    release(); // the crashed runtime's look answers now: nothing incomplete
    await new Promise((r) => setTimeout(r, 300));
    expect(sandbox.platform.incompleteServerPayments()).toEqual([]);
    await second.close({ abandon: true });
  } finally {
    clearInterval(closer);
    await sandbox.close();
  }
}, 30_000);
