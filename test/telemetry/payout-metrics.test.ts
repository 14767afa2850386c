import { describe, expect, test } from "vitest";
import { isValidationError } from "../../src/index.js";
import { cachedBalance } from "../../src/telemetry/wallet-balance.js";
import { testPayouts } from "../helpers/payouts.js";
import { testSandbox } from "../helpers/sandbox.js";
import { testMetrics, testTracing } from "../helpers/telemetry.js";

const fast = { ledgerIntervalMs: 5, clock: "simulated" as const };

describe("payout metrics", () => {
  test("outcomes, durations, steps and Horizon errors are counted without a per-payout label", async () => {
    const sandbox = await testSandbox({ ...fast, walletBalance: "7" });
    const metrics = testMetrics();
    const payouts = testPayouts(sandbox, { telemetry: { meterProvider: metrics.provider } });
    const uid = sandbox.users[0]!.uid;
    await payouts.pay({ key: "m-1", uid, amount: 1, memo: "m" });
    await payouts.pay({ key: "m-2", uid, amount: 2, memo: "m" });
    const poor = await payouts.pay({ key: "m-3", uid, amount: 50, memo: "m" });
    expect(poor.failure?.code).toBe("INSUFFICIENT_FUNDS");

    const outcomes = await metrics.points("pi_payments.payouts");
    expect(outcomes.map((p) => [p.attributes, p.value])).toEqual(
      expect.arrayContaining([
        [{ "pi_payments.outcome": "completed" }, 2],
        [{ "pi_payments.outcome": "failed", "error.type": "INSUFFICIENT_FUNDS" }, 1],
      ]),
    );
    const durations = await metrics.points("pi_payments.payout.duration");
    const completed = durations.find((p) => p.attributes["pi_payments.outcome"] === "completed");
    expect(completed?.value).toMatchObject({ count: 2 });

    const steps = await metrics.points("pi_payments.step.duration");
    const byStep = new Map(
      steps
        .filter((p) => p.attributes["error.type"] === undefined)
        .map((p) => [p.attributes["pi_payments.step"], (p.value as { count: number }).count]),
    );
    expect(byStep.get("createPiPayment")).toBe(3);
    expect(byStep.get("completePiPayment")).toBe(2);
    expect(byStep.get("submitTransaction")).toBe(3);

    const horizon = await metrics.points("pi_payments.horizon.errors");
    expect(horizon).toHaveLength(1);
    expect(horizon[0]).toMatchObject({
      // Paying more than the balance (but with fees covered): in the ledger, failed.
      attributes: {
        "pi.horizon.result_code": "tx_failed",
        "pi.horizon.operation_result_code": "op_underfunded",
      },
      value: 1,
    });

    // No label anywhere names a payout, a payment or a transaction.
    const labels = (await metrics.collect()).flatMap((m) =>
      m.dataPoints.flatMap((p) => Object.keys(p.attributes)),
    );
    for (const label of ["pi_payments.payout.key", "pi.payment_id", "pi.tx_hash"]) {
      expect(labels).not.toContain(label);
    }
  });

  test("payouts.active counts what this process drives, by main state", async () => {
    const sandbox = await testSandbox(fast);
    const metrics = testMetrics();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached!: () => void;
    const atSubmit = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const payouts = testPayouts(sandbox, {
      telemetry: { meterProvider: metrics.provider },
      probe: async (point) => {
        if (point.point === "effect:start" && point.effect === "submitTransaction") {
          reached();
          await held;
        }
      },
    });
    const paying = payouts.pay({ key: "busy", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
    await atSubmit;
    const during = await metrics.points("pi_payments.payouts.active");
    expect(during.find((p) => p.attributes["pi_payments.state"] === "submitted")?.value).toBe(1);
    expect(during.find((p) => p.attributes["pi_payments.state"] === "created")?.value).toBe(0);
    release();
    await paying;
    const after = await metrics.points("pi_payments.payouts.active");
    expect(after.every((p) => p.value === 0)).toBe(true);
  });

  test("the wallet balance gauge reads the account at most once per cache period", async () => {
    const sandbox = await testSandbox({ ...fast, walletBalance: "42.5" });
    const metrics = testMetrics();
    const payouts = testPayouts(sandbox, {
      telemetry: { meterProvider: metrics.provider, balanceMaxAgeMs: 60_000 },
    });
    const accountReads = () =>
      sandbox.requests().filter((r) => r.path.startsWith(`/accounts/${payouts.walletAddress}`))
        .length;
    const before = accountReads();
    const [point] = await metrics.points("pi_payments.wallet.balance");
    expect(point).toMatchObject({ attributes: { "pi.network": sandbox.network }, value: 42.5 });
    await metrics.points("pi_payments.wallet.balance");
    await metrics.points("pi_payments.wallet.balance");
    expect(accountReads() - before).toBe(1);
  });

  test("a balance read that fails or hangs keeps the last known value", async () => {
    let clock = 0;
    let answer: () => Promise<{ balance: string }> = async () => ({ balance: "3" });
    const balance = cachedBalance(() => answer(), {
      maxAgeMs: 10,
      timeoutMs: 20,
      now: () => clock,
    });
    expect(await balance()).toBe(3);
    clock += 11;
    answer = () => Promise.reject(new Error("503"));
    expect(await balance()).toBe(3);
    clock += 11;
    answer = () => new Promise(() => {});
    expect(await balance()).toBe(3);
  });

  test("secrets never reach a span or a metric", async () => {
    const sandbox = await testSandbox({ ...fast, walletBalance: "0.5" });
    const tracing = testTracing();
    const metrics = testMetrics();
    const payouts = testPayouts(sandbox, {
      telemetry: { tracerProvider: tracing.provider, meterProvider: metrics.provider },
    });
    await payouts.pay({ key: "s-1", uid: sandbox.users[0]!.uid, amount: 5, memo: "m" });
    const exported = JSON.stringify([
      tracing.spans().map((s) => ({
        name: s.name,
        attributes: s.attributes,
        events: s.events,
        status: s.status,
        links: s.links,
      })),
      await metrics.collect(),
    ]);
    expect(exported.length).toBeGreaterThan(1000);
    expect(exported).not.toContain(sandbox.walletSeed);
    expect(exported).not.toContain(sandbox.apiKey);
  });

  test("a telemetry option of the wrong shape is refused, naming it", () => {
    const sandbox = { apiKey: "k".repeat(20), walletSeed: "S".repeat(56) };
    for (const telemetry of [true, { tracerProvider: {} }, { meterProvider: 3 }, { extra: 1 }]) {
      try {
        testPayouts(sandbox as never, { telemetry: telemetry as never });
        expect.fail("accepted");
      } catch (error) {
        expect(isValidationError(error) && error.code).toBe("INVALID_OPTIONS");
        expect((error as Error).message).toContain("telemetry");
      }
    }
  });
});
