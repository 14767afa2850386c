import { metrics, trace } from "@opentelemetry/api";
import { describe, expect, test } from "vitest";
import { loadOtel } from "../../src/telemetry/load-otel.js";
import { createPayoutTelemetry } from "../../src/telemetry/payout-telemetry.js";
import { testPayouts } from "../helpers/payouts.js";
import { testSandbox } from "../helpers/sandbox.js";
import { testMetrics, testTracing } from "../helpers/telemetry.js";

const fast = { ledgerIntervalMs: 5, clock: "simulated" as const };

describe("without an SDK", () => {
  test("with the API installed and no SDK registered, payouts run, nothing is recorded or stored", async () => {
    // The global providers are the API's no-ops: this file registers none.
    expect(trace.getTracerProvider().getTracer("x").startSpan("y").isRecording()).toBe(false);
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const payout = await payouts.pay({
      key: "quiet",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    expect(payout.state).toBe("completed");
    const stored = await payouts.store.get("quiet");
    expect(stored!.snapshot.context).not.toHaveProperty("traceparent");
    // Nothing to record for: the runtime has no telemetry at all, so it costs nothing.
    expect(
      createPayoutTelemetry(undefined, {
        network: "Pi Testnet",
        account: async () => ({ balance: "1" }),
      }),
    ).toBeUndefined();
  });

  test("without the API installed, telemetry is off and createPayouts works", async () => {
    const missing = () => {
      throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), {
        code: "MODULE_NOT_FOUND",
      });
    };
    expect(loadOtel(missing)).toBeUndefined();
    expect(loadOtel(() => ({ trace: {} }))).toBeUndefined();
    expect(
      createPayoutTelemetry(undefined, {
        network: "Pi Testnet",
        account: async () => ({ balance: "1" }),
        resolveApi: missing,
      }),
    ).toBeUndefined();
    expect(loadOtel()).toBeDefined();
  });

  test("an SDK registered globally before createPayouts() is used without any option", async () => {
    const tracing = testTracing();
    const meters = testMetrics();
    trace.setGlobalTracerProvider(tracing.provider);
    metrics.setGlobalMeterProvider(meters.provider);
    try {
      const sandbox = await testSandbox(fast);
      const payouts = testPayouts(sandbox);
      await payouts.pay({ key: "global", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
      // A collection first records what waits for its batch: it sees the payout at once.
      expect((await meters.points("pi_payments.payouts"))[0]?.value).toBe(1);
      payouts.flushTelemetry();
      expect(tracing.named("pi-payments.payout")).toHaveLength(1);
    } finally {
      trace.disable();
      metrics.disable();
    }
  });

  test("telemetry: false turns it off", async () => {
    expect(
      createPayoutTelemetry(false, {
        network: "Pi Testnet",
        account: async () => ({ balance: "1" }),
      }),
    ).toBeUndefined();
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox, { telemetry: false });
    expect(
      (await payouts.pay({ key: "off", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" })).state,
    ).toBe("completed");
  });
});
