import { afterEach, expect } from "vitest";
import { createPayouts, type Payout, type Payouts, type PayoutsOptions } from "../../src/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";

const open = new Set<Payouts>();

afterEach(async () => {
  await Promise.all([...open].map((p) => p.close({ abandon: true })));
  open.clear();
});

/** A payouts runtime against a sandbox, with fast retries; closed after the test. */
export function testPayouts(sandbox: Sandbox, options: Partial<PayoutsOptions> = {}): Payouts {
  const payouts = createPayouts({
    apiKey: sandbox.apiKey,
    walletSeed: sandbox.walletSeed,
    network: sandbox.network,
    apiUrl: sandbox.apiUrl,
    horizonUrl: sandbox.horizonUrl,
    store: createMemoryStore(),
    backoff: { baseDelayMs: 2, maxDelayMs: 20 },
    slotPollMs: 5,
    pollMs: 5,
    leaseMs: 2_000,
    createGraceMs: 30,
    ...options,
  });
  open.add(payouts);
  return payouts;
}

/**
 * The invariants that must hold against the sandbox's own records after any run: at most
 * one applied payment per Pi payment and per payout key; a completed payout is exactly
 * what Pi and the ledger hold; a cancelled one paid nothing.
 */
export function expectPaidAtMostOnce(sandbox: Sandbox, payouts: Payout[]): void {
  const keyOf = new Map(sandbox.payments().map((p) => [p.identifier, p.metadata?.pi_payments_key]));
  const perPayment = new Map<string, number>();
  const perKey = new Map<string, number>();
  for (const paid of sandbox.ledgerPayments()) {
    if (!paid.memo) continue;
    perPayment.set(paid.memo, (perPayment.get(paid.memo) ?? 0) + 1);
    const key = keyOf.get(paid.memo);
    if (typeof key === "string") perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  for (const [memo, count] of perPayment) expect(count, `payments with memo ${memo}`).toBe(1);
  for (const [key, count] of perKey) expect(count, `payments for key ${key}`).toBe(1);
  for (const payout of payouts) {
    const onLedger = sandbox
      .ledgerPayments()
      .filter((p) => p.memo !== undefined && keyOf.get(p.memo) === payout.key);
    if (payout.state === "completed") {
      expect(onLedger).toEqual([
        expect.objectContaining({ txid: payout.txid, amount: payout.amount, to: payout.toAddress }),
      ]);
      const pi = sandbox.payments().find((p) => p.identifier === payout.paymentId);
      expect(pi?.status.developer_completed).toBe(true);
      expect(pi?.transaction?.txid).toBe(payout.txid);
    }
    if (payout.state === "cancelled") expect(onLedger).toEqual([]);
    if (payout.state === "failed") expect(payout.failure?.code).toMatch(/^[A-Z_]+$/);
  }
}
