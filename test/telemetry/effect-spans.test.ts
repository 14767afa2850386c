import * as api from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { describe, expect, test } from "vitest";
import type { StoredPayout } from "../../src/storage/types.js";
import { DeferredWork } from "../../src/telemetry/deferred-work.js";
import { createPayoutTracing } from "../../src/telemetry/payout-tracing.js";
import { testTracing } from "../helpers/telemetry.js";

/** A record as a runner starts from it: only what tracing reads. */
const record = (key: string) =>
  ({
    key,
    state: "stored",
    stateDetail: "stored.creating",
    paymentId: null,
    txid: null,
    snapshot: { context: {} },
  }) as unknown as StoredPayout;

const facts = {
  errorType: undefined,
  result: undefined,
  horizon: undefined,
  paymentId: undefined,
  txHash: undefined,
};

function traced() {
  const tracing = testTracing();
  const work = new DeferredWork(60_000, 1000);
  const payouts = createPayoutTracing(api, tracing.provider, "Pi Testnet", work);
  return { tracing, run: payouts.startRun(record("k"))! };
}

describe("an effect's span", () => {
  test("is made by the SDK only when recorded if nothing read it, with the effect's start", () => {
    const { tracing, run } = traced();
    const begun = performance.now() - 20;
    const span = run.beginEffect("createPiPayment", begun);
    expect(span.made).toBe(false);
    expect(tracing.spans()).toEqual([]);
    run.recordEffect(span, begun + 12, facts);
    const [made] = tracing.named("pi-payments.create_payment");
    const ms = ([s, ns]: [number, number]) => s * 1000 + ns / 1e6;
    expect(ms(made!.endTime) - ms(made!.startTime)).toBeCloseTo(12, 0);
    expect(made!.attributes).toMatchObject({
      "pi_payments.step": "createPiPayment",
      "pi_payments.state": "stored",
    });
  });

  test("is made when something reads it while the effect runs, and recorded once", () => {
    const { tracing, run } = traced();
    const begun = performance.now();
    const span = run.beginEffect("submitTransaction", begun);
    const identity = span.spanContext();
    expect(span.made).toBe(true);
    run.recordEffect(span, begun + 3, facts);
    const made = tracing.named("pi-payments.submit");
    expect(made).toHaveLength(1);
    expect(made[0]!.spanContext().spanId).toBe(identity.spanId);
  });

  test("a slot found free at once is no span; a slot waited for is one, as is a slot a host span read", () => {
    const { tracing, run } = traced();
    const begun = performance.now();
    const free = run.beginEffect("acquireSlot", begun);
    run.recordEffect(free, begun + 0.4, facts);
    expect(tracing.named("pi-payments.acquire_slot")).toEqual([]);

    const waited = run.beginEffect("acquireSlot", begun);
    run.recordEffect(waited, begun + 250, facts);
    expect(tracing.named("pi-payments.acquire_slot")).toHaveLength(1);

    const read = run.beginEffect("acquireSlot", begun);
    read.spanContext();
    run.recordEffect(read, begun + 0.4, facts);
    expect(tracing.named("pi-payments.acquire_slot")).toHaveLength(2);
  });

  test("once recorded, a span never made stays unmade: a late read gets one that records nothing", () => {
    const { tracing, run } = traced();
    const begun = performance.now();
    const free = run.beginEffect("acquireSlot", begun);
    run.recordEffect(free, begun + 0.2, facts);
    expect(free.isRecording()).toBe(false);
    free.end();
    expect(free.made).toBe(false);
    expect(tracing.spans()).toEqual([]);
  });

  test("a tracer that throws when the span is made gives one that records nothing", () => {
    const work = new DeferredWork(60_000, 1000);
    let calls = 0;
    const provider = {
      getTracer: () => ({
        startSpan: () => {
          calls += 1;
          if (calls > 1) throw new Error("tracer bug");
          return testTracing().provider.getTracer("x").startSpan("payout");
        },
      }),
    } as unknown as api.TracerProvider;
    const run = createPayoutTracing(api, provider, "Pi Testnet", work).startRun(record("k"))!;
    const span = run.beginEffect("createPiPayment", performance.now());
    expect(() => span.spanContext()).not.toThrow();
    expect(span.isRecording()).toBe(false);
  });

  test("is put in a context only where a context manager carries contexts", () => {
    expect(traced().run.propagates).toBe(false);
    const manager = new AsyncLocalStorageContextManager().enable();
    api.context.setGlobalContextManager(manager);
    try {
      expect(traced().run.propagates).toBe(true);
    } finally {
      manager.disable();
      api.context.disable();
    }
    expect(traced().run.propagates).toBe(false);
  });
});
