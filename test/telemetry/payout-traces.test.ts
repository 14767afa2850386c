import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPiPlatform } from "../../src/adapters/pi-platform.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { testSandbox } from "../helpers/sandbox.js";
import { testTracing } from "../helpers/telemetry.js";

const fast = { ledgerIntervalMs: 5, clock: "simulated" as const };

// pay() inside the host's active span needs a context manager, as any Node SDK sets up.
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
});
afterAll(() => {
  contextManager.disable();
  context.disable();
});

type WithFn = AsyncLocalStorageContextManager["with"];

/** The payout each test asks for: `amount` Pi to the sandbox's first user, under `key`. */
const payoutOf = (sandbox: Sandbox, key: string, amount = 1) => ({
  key,
  uid: sandbox.users[0]!.uid,
  amount,
  memo: "m",
});

/**
 * Runs `body` under a misbehaving context manager: a working one but for its `with()`, which
 * `makeWith` gives (from the working one's). The suite's own manager is put back after.
 */
async function underContextManager(
  makeWith: (realWith: WithFn) => (...args: Parameters<WithFn>) => unknown,
  body: () => Promise<void>,
): Promise<void> {
  const real = new AsyncLocalStorageContextManager().enable();
  const manager = {
    active: () => real.active(),
    with: makeWith(real.with.bind(real)),
    bind: real.bind.bind(real),
    enable: () => manager,
    disable: () => manager,
  };
  context.disable();
  context.setGlobalContextManager(manager as unknown as AsyncLocalStorageContextManager);
  try {
    await body();
  } finally {
    real.disable();
    context.disable();
    context.setGlobalContextManager(contextManager.enable());
  }
}

describe("payout traces", () => {
  test("a payout is one span from intake to rest, with a child span per effect carrying its ids", async () => {
    const sandbox = await testSandbox(fast);
    const tracing = testTracing();
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: tracing.provider } });
    const payout = await payouts.pay(payoutOf(sandbox, "traced-1"));
    expect(payout.state).toBe("completed");
    payouts.flushTelemetry();

    const [root, ...others] = tracing.named("pi-payments.payout");
    expect(others).toEqual([]);
    expect(root!.attributes).toMatchObject({
      "pi_payments.payout.key": "traced-1",
      "pi.network": sandbox.network,
      "pi.payment_id": payout.paymentId,
      "pi.tx_hash": payout.txid,
      "pi_payments.state": "completed",
      "pi_payments.outcome": "completed",
    });
    expect(root!.attributes["pi_payments.resumed"]).toBeUndefined();
    // Each step that saved an effect's result is told by the effect's span: no event repeats it.
    expect(root!.events).toEqual([]);

    const children = tracing.spans().filter((s) => s !== root);
    for (const child of children) {
      expect(child.spanContext().traceId).toBe(root!.spanContext().traceId);
      expect(child.parentSpanContext?.spanId).toBe(root!.spanContext().spanId);
    }
    const names = children.map((s) => s.name);
    for (const name of [
      "pi-payments.create_payment",
      "pi-payments.sign",
      "pi-payments.submit",
      "pi-payments.complete",
    ]) {
      expect(names).toContain(name);
    }
    const submit = tracing.named("pi-payments.submit")[0]!;
    expect(submit.attributes).toMatchObject({
      "pi_payments.step": "submitTransaction",
      "pi.payment_id": payout.paymentId,
      "pi.tx_hash": payout.txid,
      "pi_payments.state": "submitted",
    });
    expect(tracing.named("pi-payments.create_payment")[0]!.attributes["pi.payment_id"]).toBe(
      payout.paymentId,
    );
    // The stored payout keeps the span it was taken in with.
    const stored = await payouts.store.get("traced-1");
    expect(stored!.snapshot.context.traceparent).toBe(
      `00-${root!.spanContext().traceId}-${root!.spanContext().spanId}-01`,
    );
  });

  test("pay() inside the host's active span makes the payout's span its child", async () => {
    const sandbox = await testSandbox(fast);
    const tracing = testTracing();
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: tracing.provider } });
    const host = tracing.provider.getTracer("host");
    await host.startActiveSpan("POST /refunds", async (request) => {
      await payouts.pay(payoutOf(sandbox, "child"));
      request.end();
    });
    payouts.flushTelemetry();
    const request = tracing.named("POST /refunds")[0]!;
    const payout = tracing.named("pi-payments.payout")[0]!;
    expect(payout.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(payout.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
  });

  test("the host's HTTP spans nest in the effect that made the request, which keeps its real start", async () => {
    const sandbox = await testSandbox(fast);
    const tracing = testTracing();
    const http = tracing.provider.getTracer("host-http");
    // What an HTTP instrumentation does: a span per request, a child of the active span.
    const instrumented: typeof fetch = async (input, init) => {
      const span = http.startSpan("HTTP request");
      try {
        return await fetch(input, init);
      } finally {
        span.end();
      }
    };
    const payouts = testPayouts(sandbox, {
      platform: createPiPlatform({
        apiKey: sandbox.apiKey,
        baseUrl: sandbox.apiUrl,
        fetch: instrumented,
      }),
      telemetry: { tracerProvider: tracing.provider },
    });
    await payouts.pay(payoutOf(sandbox, "nested"));
    // Recorded in batches: flushTelemetry() records what waits (as close() and 200 ms do).
    payouts.flushTelemetry();

    const toMs = ([s, ns]: [number, number]) => s * 1000 + ns / 1e6;
    const payout = tracing.named("pi-payments.payout")[0]!;
    for (const effect of ["pi-payments.create_payment", "pi-payments.complete"]) {
      const span = tracing.named(effect)[0]!;
      expect(span.parentSpanContext?.spanId).toBe(payout.spanContext().spanId);
      const requests = tracing
        .named("HTTP request")
        .filter((r) => r.parentSpanContext?.spanId === span.spanContext().spanId);
      expect(requests, `${effect}'s requests`).toHaveLength(1);
      const request = requests[0]!;
      expect(request.spanContext().traceId).toBe(payout.spanContext().traceId);
      // The effect's span was made when the request read it, with the time the effect began.
      // Within a millisecond: the SDK places a span on the wall clock with Date.now(), to the
      // millisecond, and measures from there with performance.now(), so two spans' absolute
      // times may be a part of a millisecond apart (live spans too).
      expect(toMs(span.startTime)).toBeLessThanOrEqual(toMs(request.startTime) + 1);
      expect(toMs(span.endTime)).toBeGreaterThanOrEqual(toMs(request.endTime) - 1);
      expect(toMs(span.endTime) - toMs(span.startTime)).toBeGreaterThanOrEqual(
        toMs(request.endTime) - toMs(request.startTime),
      );
    }
    // Every request of the payout's Pi calls hangs under one of its effects.
    for (const request of tracing.named("HTTP request")) {
      const parent = tracing
        .spans()
        .find((s) => s.spanContext().spanId === request.parentSpanContext?.spanId);
      expect(parent?.name).toMatch(/^pi-payments\./);
      expect(parent?.name).not.toBe("pi-payments.payout");
    }
  });

  test("a person's command is an event on the payout's span; an effect's result is its span", async () => {
    const sandbox = await testSandbox(fast);
    const tracing = testTracing();
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: tracing.provider } });
    await payouts.enqueue(payoutOf(sandbox, "called-off"));
    await payouts.cancel("called-off", { by: "alice", reason: "duplicate order" });
    await payouts.close();
    const run = tracing.named("pi-payments.payout")[0]!;
    expect(run.attributes).toMatchObject({ "pi_payments.outcome": "cancelled" });
    expect(run.events.map((e) => [e.name, e.attributes])).toEqual([
      ["CANCEL", { "pi_payments.state.detail": "cancelled" }],
    ]);
  });

  test("a refused onSettled is an event on the payout's span, as commands are", async () => {
    const sandbox = await testSandbox(fast);
    const tracing = testTracing();
    const file = join(tmpdir(), `pi-otel-hook-${process.pid}-${Date.now()}.db`);
    let refusals = 1;
    try {
      const payouts = testPayouts(sandbox, {
        store: createSqliteStore({ path: file }),
        backoff: { baseDelayMs: 5, maxDelayMs: 5 },
        onSettled: () => {
          if (refusals-- > 0) throw new Error("orders table locked");
        },
        telemetry: { tracerProvider: tracing.provider },
      });
      const paid = await payouts.pay(payoutOf(sandbox, "hooked"));
      expect(paid.state).toBe("completed");
      await payouts.close();
      const run = tracing.named("pi-payments.payout")[0]!;
      expect(run.events.map((e) => e.name)).toEqual(["onSettled.error"]);
      // The effect whose save the hook refused ran again: two spans, one recorded each time.
      expect(tracing.named("pi-payments.complete")).toHaveLength(2);
    } finally {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    }
  });

  test("the span pay() began ends when no runner takes it: pay() aborted, or closed while storing", async () => {
    const sandbox = await testSandbox(fast);
    const tracing = testTracing();
    const aborted = testPayouts(sandbox, { telemetry: { tracerProvider: tracing.provider } });
    const signal = AbortSignal.abort();
    await expect(aborted.pay(payoutOf(sandbox, "aborted"), { signal })).rejects.toThrow();
    aborted.flushTelemetry();
    expect(
      tracing.named("pi-payments.payout").map((s) => s.attributes["pi_payments.payout.key"]),
    ).toEqual(["aborted"]);

    // A store slow to take the payout in: the runtime closes meanwhile.
    const store = createMemoryStore();
    const create = store.create.bind(store);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    store.create = async (...args) => {
      await held;
      return create(...args);
    };
    const closing = testPayouts(sandbox, {
      store,
      telemetry: { tracerProvider: tracing.provider },
    });
    const paying = closing.pay({
      key: "closing",
      uid: sandbox.users[1]!.uid,
      amount: 1,
      memo: "m",
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await closing.close();
    release();
    await expect(paying).rejects.toMatchObject({ code: "CLOSED" });
    expect(
      tracing.named("pi-payments.payout").map((s) => s.attributes["pi_payments.payout.key"]),
    ).toEqual(["aborted", "closing"]);
  });

  test("a context manager that loses the effect's result, or a span processor that throws, never runs an effect twice nor fails it", async () => {
    const sandbox = await testSandbox(fast);
    const requestsOf = async (
      payouts: ReturnType<typeof testPayouts>,
      key: string,
      user: number,
    ) => {
      const before = sandbox.requests().length;
      const payout = await payouts.pay({
        key,
        uid: sandbox.users[user]!.uid,
        amount: 1,
        memo: "m",
      });
      expect(payout.state).toBe("completed");
      expect(payout.lastError).toBeNull();
      return sandbox
        .requests()
        .slice(before)
        .map((r) => `${r.method} ${r.face}`)
        .sort();
    };
    const plain = await requestsOf(testPayouts(sandbox, { telemetry: false }), "plain", 0);

    // A processor that throws when the effect's span is made, which here happens inside the
    // effect, in the host's HTTP instrumentation (it reads the active span).
    const tracing = testTracing();
    const provider = new BasicTracerProvider({
      spanProcessors: [
        {
          onStart: (span) => {
            if ((span as unknown as { name: string }).name === "pi-payments.create_payment")
              throw new Error("processor bug");
          },
          onEnd: () => {},
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    const reading: typeof fetch = async (input, init) => {
      trace.getActiveSpan()?.spanContext();
      return fetch(input, init);
    };
    const throwing = testPayouts(sandbox, {
      platform: createPiPlatform({
        apiKey: sandbox.apiKey,
        baseUrl: sandbox.apiUrl,
        fetch: reading,
      }),
      telemetry: { tracerProvider: provider },
    });
    expect(await requestsOf(throwing, "processor", 1)).toEqual(plain);

    // A context manager whose with() runs the function but returns nothing.
    await underContextManager(
      (realWith) => (ctx, fn) => {
        realWith(ctx, fn);
        return undefined;
      },
      async () => {
        // It carries contexts (its with() runs the function inside): the effect runs inside
        // it, its span active, and still once.
        let activeInEffect = false;
        const lost = testPayouts(sandbox, {
          platform: createPiPlatform({
            apiKey: sandbox.apiKey,
            baseUrl: sandbox.apiUrl,
            fetch: async (input, init) => {
              activeInEffect ||= trace.getActiveSpan() !== undefined;
              return fetch(input, init);
            },
          }),
          telemetry: { tracerProvider: tracing.provider },
        });
        expect(await requestsOf(lost, "lost-result", 2)).toEqual(plain);
        expect(activeInEffect).toBe(true);
      },
    );
  });

  test("a sampler sees the network when pay() and enqueue() start their spans, and can drop a network", async () => {
    const sandbox = await testSandbox(fast);
    const exporter = new InMemorySpanExporter();
    const asked: Array<[string, unknown]> = [];
    const provider = new BasicTracerProvider({
      sampler: {
        shouldSample: (_ctx, _trace, name, _kind, attributes) => {
          asked.push([name, attributes["pi.network"]]);
          // Decision.RECORD_AND_SAMPLE = 2, NOT_RECORD = 0: sample all but the testnet.
          return { decision: attributes["pi.network"] === "Pi Testnet" ? 0 : 2 };
        },
        toString: () => "by network",
      },
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: provider } });
    const user = sandbox.users[0]!.uid;
    await payouts.enqueue({ key: "queued", uid: user, amount: 1, memo: "m" });
    expect((await payouts.pay({ key: "paid", uid: user, amount: 1, memo: "m" })).state).toBe(
      "completed",
    );
    payouts.flushTelemetry();
    expect(asked.slice(0, 2)).toEqual([
      ["pi-payments.enqueue", sandbox.network],
      ["pi-payments.payout", sandbox.network],
    ]);
    expect(sandbox.network).toBe("Pi Testnet");
    expect(exporter.getFinishedSpans()).toEqual([]);
    await payouts.close();
  });

  test("a context manager that runs a with() callback late (at its next with()) never runs an effect twice", async () => {
    const sandbox = await testSandbox(fast);
    const late: Array<() => void> = [];
    await underContextManager(
      (realWith) => (ctx, fn) => {
        for (const call of late.splice(0)) call();
        late.push(() => realWith(ctx, fn));
        return undefined;
      },
      async () => {
        const payouts = testPayouts(sandbox, {
          telemetry: { tracerProvider: testTracing().provider },
        });
        for (const key of ["late-1", "late-2", "late-3"]) {
          const payout = await payouts.pay(payoutOf(sandbox, key));
          expect(payout.state).toBe("completed");
        }
        for (const call of late.splice(0)) call();
        await new Promise((resolve) => setTimeout(resolve, 100));
        const count = (method: string, path: string) =>
          sandbox.requests().filter((r) => r.method === method && r.path === path).length;
        expect(sandbox.ledgerPayments()).toHaveLength(3);
        expect(count("POST", "/v2/payments")).toBe(3);
        expect(count("POST", "/transactions")).toBe(3);
        await payouts.close();
      },
    );
  });

  test("a context manager whose with() throws: the payout completes, every span it started ends, effects included", async () => {
    const sandbox = await testSandbox(fast);
    const started: string[] = [];
    const ended: string[] = [];
    const provider = new BasicTracerProvider({
      spanProcessors: [
        {
          onStart: (span) => void started.push((span as unknown as { name: string }).name),
          onEnd: (span) => void ended.push(span.name),
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    await underContextManager(
      () => () => {
        throw new Error("context manager bug");
      },
      async () => {
        const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: provider } });
        const payout = await payouts.pay(payoutOf(sandbox, "throwing-manager"));
        expect(payout.state).toBe("completed");
        payouts.flushTelemetry();
        expect(started).toContain("pi-payments.payout");
        expect(started).toContain("pi-payments.complete");
        expect([...ended].sort()).toEqual([...started].sort());
        await payouts.close();
      },
    );
  });

  test("a failed payout carries its code as error.type, a refused submit Horizon's result code", async () => {
    const sandbox = await testSandbox({ ...fast, walletBalance: "0.5" });
    const tracing = testTracing();
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: tracing.provider } });
    const payout = await payouts.pay(payoutOf(sandbox, "poor", 5));
    expect(payout.failure?.code).toBe("INSUFFICIENT_FUNDS");
    payouts.flushTelemetry();
    const root = tracing.named("pi-payments.payout")[0]!;
    expect(root.attributes).toMatchObject({
      "error.type": "INSUFFICIENT_FUNDS",
      "pi_payments.outcome": "failed",
    });
    expect(root.status.code).toBe(2);
    expect(tracing.named("pi-payments.submit")[0]!.attributes).toMatchObject({
      "pi_payments.result": "failed",
      "pi.horizon.result_code": "tx_insufficient_balance",
    });
    expect(tracing.named("pi-payments.cancel")).toHaveLength(1);
  });

  test("an effect that fails carries our error code as error.type", async () => {
    const sandbox = await testSandbox({
      ...fast,
      faults: [{ route: "POST /v2/payments", kind: "drop", times: 1 }],
    });
    const tracing = testTracing();
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: tracing.provider } });
    const payout = await payouts.pay(payoutOf(sandbox, "flaky"));
    expect(payout.state).toBe("completed");
    payouts.flushTelemetry();
    const [failed, retried] = tracing.named("pi-payments.create_payment");
    expect(failed!.attributes["error.type"]).toMatch(/^[A-Z_]+$/);
    expect(failed!.status.code).toBe(2);
    expect(retried!.attributes["error.type"]).toBeUndefined();
  });

  test("enqueue() begins the trace; the worker's payout span continues it", async () => {
    const sandbox = await testSandbox(fast);
    const tracing = testTracing();
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: tracing.provider } });
    await payouts.enqueue(payoutOf(sandbox, "queued"));
    const [resumed] = await payouts.resume({ wait: true });
    expect(resumed!.state).toBe("completed");
    payouts.flushTelemetry();
    const enqueue = tracing.named("pi-payments.enqueue")[0]!;
    const run = tracing.named("pi-payments.payout")[0]!;
    expect(run.spanContext().traceId).toBe(enqueue.spanContext().traceId);
    expect(run.parentSpanContext?.spanId).toBe(enqueue.spanContext().spanId);
    expect(run.attributes["pi_payments.resumed"]).toBe(true);
  });

  test("a payout resumed by a new runtime after a crash continues its original trace", async () => {
    const file = join(tmpdir(), `pi-otel-${process.pid}-${Date.now()}.db`);
    try {
      const sandbox = await testSandbox(fast);
      const firstTracing = testTracing();
      let crash!: () => void;
      const crashed = new Promise<void>((resolve) => {
        crash = resolve;
      });
      const first = testPayouts(sandbox, {
        store: createSqliteStore({ path: file }),
        owner: "instance-1",
        telemetry: { tracerProvider: firstTracing.provider },
        probe: async (point) => {
          if (point.point === "effect:end" && point.effect === "submitTransaction") {
            crash();
            await new Promise(() => {});
          }
        },
      });
      void first.pay(payoutOf(sandbox, "crashy")).catch(() => undefined);
      await crashed;
      await first.close({ abandon: true });
      // The process "died": its payout span never ended, its effects' spans did.
      expect(firstTracing.named("pi-payments.payout")).toEqual([]);
      const before = firstTracing.spans();
      expect(before.map((s) => s.name)).toContain("pi-payments.sign");
      const traceId = before[0]!.spanContext().traceId;
      const originalSpanId = before[0]!.parentSpanContext!.spanId;

      const secondTracing = testTracing();
      const second = testPayouts(sandbox, {
        store: createSqliteStore({ path: file }),
        owner: "instance-1",
        telemetry: { tracerProvider: secondTracing.provider },
      });
      const [resumed] = await second.resume({ wait: true });
      expect(resumed!.state).toBe("completed");
      expectPaidAtMostOnce(sandbox, [resumed!]);
      second.flushTelemetry();
      const after = secondTracing.spans();
      expect(after.length).toBeGreaterThan(1);
      for (const span of after) expect(span.spanContext().traceId).toBe(traceId);
      const run = secondTracing.named("pi-payments.payout")[0]!;
      expect(run.parentSpanContext?.spanId).toBe(originalSpanId);
      expect(run.parentSpanContext?.isRemote).toBe(true);
      expect(run.attributes).toMatchObject({
        "pi_payments.resumed": true,
        "pi_payments.outcome": "completed",
      });
      expect(after.map((s) => s.name)).toContain("pi-payments.complete");
      await second.close();
    } finally {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
    }
  });

  test("a payout not sampled records no span, and its trace stays unsampled across runs", async () => {
    const sandbox = await testSandbox(fast);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: provider } });
    await payouts.enqueue(payoutOf(sandbox, "unsampled"));
    const [paid] = await payouts.resume({ wait: true });
    expect(paid!.state).toBe("completed");
    expect(exporter.getFinishedSpans()).toEqual([]);
    const stored = await payouts.store.get("unsampled");
    expect(stored!.snapshot.context.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  test("a tracer that throws never stops a payout", async () => {
    const sandbox = await testSandbox(fast);
    const broken = {
      getTracer: () => {
        const tracing = testTracing();
        const tracer = tracing.provider.getTracer("x");
        return {
          ...tracer,
          startSpan: () => {
            throw new Error("exporter bug");
          },
          startActiveSpan: tracer.startActiveSpan.bind(tracer),
        };
      },
    };
    const payouts = testPayouts(sandbox, { telemetry: { tracerProvider: broken } });
    const payout = await payouts.pay(payoutOf(sandbox, "robust"));
    expect(payout.state).toBe("completed");
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  test("spans that throw from every method never stop a payout, and each effect runs once", async () => {
    const sandbox = await testSandbox(fast);
    const fail = () => {
      throw new Error("span bug");
    };
    const throwingSpan = {
      isRecording: () => true,
      spanContext: () => ({ traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 0 }),
      setAttribute: fail,
      setAttributes: fail,
      addEvent: fail,
      setStatus: fail,
      end: fail,
      updateName: fail,
      recordException: fail,
      addLink: fail,
      addLinks: fail,
    };
    const provider = { getTracer: () => ({ startSpan: () => throwingSpan }) };
    const requestsOf = async (payouts: ReturnType<typeof testPayouts>, key: string, user = 0) => {
      const before = sandbox.requests().length;
      const payout = await payouts.pay({
        key,
        uid: sandbox.users[user]!.uid,
        amount: 1,
        memo: "m",
      });
      expect(payout.state).toBe("completed");
      return sandbox
        .requests()
        .slice(before)
        .map((r) => `${r.method} ${r.face}`)
        .sort();
    };
    const plain = await requestsOf(testPayouts(sandbox, { telemetry: false }), "plain", 1);
    const traced = await requestsOf(
      testPayouts(sandbox, { telemetry: { tracerProvider: provider } }),
      "robust-span",
    );
    // The same requests as without telemetry: no effect ran twice.
    expect(traced).toEqual(plain);
    expect(traced.length).toBeGreaterThanOrEqual(4);
  });
});
