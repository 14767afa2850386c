import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import { afterEach, describe, expect, test } from "vitest";
import {
  createWebhookRelay,
  type PayoutEvent,
  type Payouts,
  verifyWebhook,
  type WebhookDeliveryReport,
  type WebhookRelay,
  type WebhookRelayOptions,
} from "../../src/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { testPayouts } from "../helpers/payouts.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";
import { seededFaults, startReceiver } from "../helpers/webhook-receiver.js";

const secret = "whsec-relay-test-3c5d7e9f0a1b2c3d";
const relays = new Set<WebhookRelay>();

afterEach(async () => {
  await Promise.all([...relays].map((relay) => relay.stop()));
  relays.clear();
});

function relayFor(
  payouts: Payouts,
  receiver: { url: string },
  options: Partial<WebhookRelayOptions> = {},
  reports: WebhookDeliveryReport[] = [],
): WebhookRelay {
  const relay = createWebhookRelay(payouts, {
    url: receiver.url,
    secret,
    timeoutMs: 150,
    maxAttempts: 4,
    backoff: { baseDelayMs: 2, maxDelayMs: 10 },
    pollMs: 10,
    onDelivery: (report) => reports.push(report),
    ...options,
  });
  relays.add(relay);
  return relay;
}

/** Pays `count` payouts with keys `<prefix>-<n>`, side by side, and waits for them to rest. */
async function payMany(sandbox: Sandbox, payouts: Payouts, prefix: string, count: number) {
  const users = sandbox.users;
  return Promise.all(
    Array.from({ length: count }, (_, n) =>
      payouts.pay({
        key: `${prefix}-${n}`,
        uid: users[n % users.length]!.uid,
        amount: "1",
        memo: `hook ${n}`,
      }),
    ),
  );
}

/** Every event of the feed, oldest first. */
async function allEvents(payouts: Payouts): Promise<PayoutEvent[]> {
  const events: PayoutEvent[] = [];
  for (;;) {
    const page = await payouts.events.read({ after: events.at(-1)?.seq ?? 0, limit: 1000 });
    if (page.length === 0) return events;
    events.push(...page);
  }
}

/** Waits until the relay's cursor is past every event of the feed. */
async function caughtUp(payouts: Payouts, relay: WebhookRelay, timeoutMs = 20_000) {
  const events = await allEvents(payouts);
  await eventually(() => relay.consumer.cursor >= events.at(-1)!.seq, { timeoutMs });
  return events;
}

const fast = { ledgerIntervalMs: 10, clock: "simulated" as const };

describe("the webhook relay", { timeout: 60_000 }, () => {
  test("against a receiver that fails 30 % and hangs on some: every event delivered or dead-lettered, then redelivered; every signature verifies", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const receiver = await startReceiver(secret, { hangMs: 400 });
    const faults = seededFaults(13, { failRate: 0.3, hangRate: 0.08 });
    // The events of one payout are refused every time: some dead letters for sure.
    receiver.decide = (event, attempt) =>
      event?.key === "flaky-3" ? "fail" : faults(event, attempt);
    const reports: WebhookDeliveryReport[] = [];
    const relay = relayFor(payouts, receiver, {}, reports);

    const paid = await payMany(sandbox, payouts, "flaky", 10);
    expect(paid.map((p) => p.state)).toEqual(Array(10).fill("completed"));
    const events = await caughtUp(payouts, relay);

    const dead = await payouts.events.deadLetters(relay.name);
    const deadSeqs = new Set(dead.map((letter) => letter.seq));
    for (const event of events) {
      expect(
        receiver.accepted.has(event.id) !== deadSeqs.has(event.seq),
        `${event.id} is delivered xor dead-lettered`,
      ).toBe(true);
    }
    expect(dead.length).toBeGreaterThanOrEqual(events.filter((e) => e.key === "flaky-3").length);
    expect(dead.every((letter) => letter.attempts === 4)).toBe(true);
    // Faults really happened, of both kinds, and were retried.
    expect(receiver.requests.filter((r) => r.verdict === "fail").length).toBeGreaterThan(10);
    expect(
      reports.some((r) => r.outcome === "retrying" && r.error === "timed out after 150 ms"),
    ).toBe(true);
    expect(reports.some((r) => r.outcome === "retrying" && r.error === "HTTP 500")).toBe(true);
    // In feed order: the first delivery of each event comes after those before it.
    const firstDelivered = reports.filter((r) => r.outcome !== "retrying").map((r) => r.seq);
    expect(firstDelivered).toEqual([...firstDelivered].sort((a, b) => a - b));

    // The receiver is fixed: each dead letter redelivered arrives, and is removed.
    receiver.decide = () => "ok";
    for (const letter of dead) await relay.redeliver(letter.id);
    expect(await payouts.events.deadLetters()).toEqual([]);
    for (const event of events) expect(receiver.accepted.has(event.id)).toBe(true);

    expect(receiver.badSignatures()).toBe(0);
    for (const request of receiver.requests) {
      expect(request.event?.id).toBe(request.headers["pi-payments-event-id"]);
      expect(verifyWebhook(request.body, request.headers["pi-payments-signature"], secret).id).toBe(
        request.event?.id,
      );
    }
    // A real request, tampered with or replayed late, is refused.
    const sample = receiver.requests.find((r) => r.verdict === "ok")!;
    const header = sample.headers["pi-payments-signature"];
    expect(() => verifyWebhook(sample.body.replace('"v":1', '"v":2'), header, secret)).toThrow(
      expect.objectContaining({ code: "WEBHOOK_SIGNATURE_INVALID" }),
    );
    const later = () => Date.now() + 301_000;
    expect(() => verifyWebhook(sample.body, header, secret, { now: later })).toThrow(
      expect.objectContaining({ code: "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE" }),
    );
    // What arrived is the feed's event, as read from the store.
    const byId = new Map(events.map((event) => [event.id, event]));
    for (const request of receiver.requests)
      expect(request.event).toEqual(byId.get(request.event!.id));
  });

  test.each([
    ["memory", () => createMemoryStore()],
    ["SQLite", () => createSqliteStore({ path: ":memory:" })],
  ])(
    "a receiver that is always down (%s store): every event dead-lettered after maxAttempts, then redeliverable",
    async (_name, store) => {
      const sandbox = await testSandbox(fast);
      const payouts = testPayouts(sandbox, { store: store() });
      const receiver = await startReceiver(secret);
      receiver.decide = () => "fail";
      const relay = relayFor(payouts, receiver, { maxAttempts: 3 });
      await payMany(sandbox, payouts, "down", 2);
      const events = await caughtUp(payouts, relay);

      const dead = await payouts.events.deadLetters();
      expect(dead.map((letter) => letter.seq)).toEqual(events.map((event) => event.seq));
      expect(
        dead.every((l) => l.consumer === relay.name && l.attempts === 3 && l.error === "HTTP 500"),
      ).toBe(true);
      expect(receiver.requests).toHaveLength(events.length * 3);
      expect(relay.deadLettered).toBe(events.length);
      expect(relay.delivered).toBe(0);

      // Still down: the redelivery fails and the letter stays.
      await expect(relay.redeliver(dead[0]!.id)).rejects.toMatchObject({
        code: "WEBHOOK_DELIVERY_FAILED",
        retryable: true,
      });
      expect(await payouts.events.deadLetters()).toHaveLength(dead.length);

      receiver.decide = () => "ok";
      await relay.redeliver(dead[0]!.id);
      expect(receiver.accepted.has(events[0]!.id)).toBe(true);
      expect(await payouts.events.deadLetters()).toHaveLength(dead.length - 1);
      await expect(relay.redeliver(dead[0]!.id)).rejects.toMatchObject({
        code: "DEAD_LETTER_NOT_FOUND",
      });
      // A dead letter is redelivered only by the relay that gave it up.
      const other = relayFor(payouts, { url: "http://127.0.0.2:9/elsewhere" }, { from: "now" });
      await expect(other.redeliver(dead[1]!.id)).rejects.toMatchObject({
        code: "DEAD_LETTER_OTHER_CONSUMER",
      });
      for (const letter of dead.slice(1)) await relay.redeliver(letter.id);
      expect(await payouts.events.deadLetters()).toEqual([]);
      expect(events.every((event) => receiver.accepted.has(event.id))).toBe(true);
    },
  );

  test("a dead letter the store refuses is written on the next call, without trying the receiver again", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const receiver = await startReceiver(secret);
    receiver.decide = () => "fail";
    let refusals = 0;
    const store = new Proxy(payouts.store, {
      get(target, property, receiverObject) {
        if (property === "addDeadLetter" && refusals < 3) {
          return async () => {
            refusals += 1;
            throw new Error("database is locked");
          };
        }
        return Reflect.get(target, property, receiverObject);
      },
    });
    const storeErrors: string[] = [];
    const relay = relayFor({ ...payouts, events: payouts.events, store } as Payouts, receiver, {
      maxAttempts: 2,
      onStoreError: (error) => storeErrors.push(error.message),
    });
    await payMany(sandbox, payouts, "locked", 1);
    const events = await caughtUp(payouts, relay);
    expect(refusals).toBe(3);
    expect(storeErrors).toEqual(Array(3).fill("database is locked"));
    expect(receiver.requests).toHaveLength(events.length * 2);
    expect((await payouts.events.deadLetters()).map((l) => l.seq)).toEqual(
      events.map((e) => e.seq),
    );
  });

  test("a kept-alive connection the receiver dropped is replaced at once, without costing a try", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const seen: string[] = [];
    // Each connection serves one request; the next one sent on it finds it closed.
    const server = createServer((req, res) => {
      const socket = req.socket as typeof req.socket & { served?: boolean };
      if (socket.served) {
        socket.destroy();
        return;
      }
      socket.served = true;
      req.resume();
      req.on("end", () => {
        seen.push(String(req.headers["pi-payments-event-id"]));
        res.writeHead(204).end();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const reports: WebhookDeliveryReport[] = [];
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const relay = relayFor(payouts, { url }, {}, reports);
      await payMany(sandbox, payouts, "ka", 1);
      const events = await caughtUp(payouts, relay);
      expect(seen).toEqual(events.map((e) => e.id));
      expect(reports.map((r) => r.outcome)).toEqual(events.map(() => "delivered"));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test("timeouts and refused connections are failed tries, named in the dead letter", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const hanging = await startReceiver(secret, { hangMs: 2_000 });
    hanging.decide = () => "hang";
    const refusing = await startReceiver(secret);
    await refusing.close();
    const slow = relayFor(payouts, hanging, { maxAttempts: 2, timeoutMs: 100, name: "slow" });
    const gone = relayFor(payouts, refusing, { maxAttempts: 2, name: "gone" });
    await payMany(sandbox, payouts, "t", 1);
    await caughtUp(payouts, slow);
    await caughtUp(payouts, gone);
    const errors = (letters: { error: string }[]) => [...new Set(letters.map((l) => l.error))];
    expect(errors(await payouts.events.deadLetters("slow"))).toEqual(["timed out after 100 ms"]);
    expect(errors(await payouts.events.deadLetters("gone"))).toEqual([
      "connection failed (ECONNREFUSED)",
    ]);
  });

  test("POSTs JSON with the user agent, the event id and the signature, one event per request", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const receiver = await startReceiver(secret);
    const relay = relayFor(payouts, receiver);
    await payMany(sandbox, payouts, "h", 1);
    const events = await caughtUp(payouts, relay);
    expect(relay.name).toBe(`webhook:${new URL(receiver.url).host}`);
    expect(receiver.requests).toHaveLength(events.length);
    const [first] = receiver.requests;
    expect(first!.headers).toMatchObject({
      "content-type": "application/json",
      "user-agent": "pi-payments/0.1.0",
      "pi-payments-event-id": events[0]!.id,
    });
    expect(first!.headers["pi-payments-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(JSON.parse(first!.body)).toEqual(events[0]);
    expect(receiver.requests.map((r) => r.event?.type)).toEqual(events.map((e) => e.type));
  });

  test("a relay given a signal aborted already delivers nothing and is done at once", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const receiver = await startReceiver(secret);
    await payMany(sandbox, payouts, "a", 1);
    const relay = relayFor(payouts, receiver, { pollMs: 600_000, signal: AbortSignal.abort() });
    const late = new Promise((resolve) => setTimeout(resolve, 2_000, "still running"));
    expect(await Promise.race([relay.done.then(() => "done"), late])).toBe("done");
    expect(receiver.requests).toEqual([]);
    // Nothing claimed: no cursor written for the name.
    expect(await payouts.events.consumers()).toEqual([]);
  });

  test("stop() cuts a long backoff short; the unacknowledged event goes to the next holder", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const receiver = await startReceiver(secret);
    receiver.decide = () => "fail";
    const relay = relayFor(payouts, receiver, { backoff: { baseDelayMs: 60_000 } });
    await payMany(sandbox, payouts, "s", 1);
    await eventually(() => receiver.requests.length === 1);
    const started = Date.now();
    await relay.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(relay.consumer.cursor).toBe(0);
    expect(await payouts.events.deadLetters()).toEqual([]);

    receiver.decide = () => "ok";
    const next = relayFor(payouts, receiver);
    const events = await caughtUp(payouts, next);
    expect(events.every((event) => receiver.accepted.has(event.id))).toBe(true);
  });

  test("the secret is in no error, report, dead letter, event, nor in the relay object", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const receiver = await startReceiver(secret);
    receiver.decide = () => "fail";
    const reports: WebhookDeliveryReport[] = [];
    const url = `${receiver.url}?token=query-token-123`;
    const relay = relayFor(payouts, { url }, { maxAttempts: 2 }, reports);
    await payMany(sandbox, payouts, "x", 1);
    await caughtUp(payouts, relay);
    const dead = await payouts.events.deadLetters();
    const failure = await relay.redeliver(dead[0]!.id).catch((error: unknown) => error);
    const misuse = [
      { url: "ftp://nope", secret },
      { url, secret: secret.slice(0, 10) },
      { url, secret: [secret, 42] },
      { url, secret, nope: secret },
    ].map((options) => {
      try {
        createWebhookRelay(payouts, options as never);
        return "created";
      } catch (error) {
        expect((error as { code?: string }).code).toBe("INVALID_OPTIONS");
        return `${String(error)} ${JSON.stringify(error)}`;
      }
    });
    const everything = [
      inspect(relay, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify(reports),
      JSON.stringify(dead),
      JSON.stringify(await allEvents(payouts)),
      JSON.stringify(await payouts.journal("x-0")),
      String(failure),
      JSON.stringify(failure),
      ...misuse,
    ].join("\n");
    expect(reports.length).toBeGreaterThan(0);
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(secret.slice(0, 10));
    // The URL's query may hold a token too: it is shown without it.
    expect(relay.target).toBe(receiver.url);
    expect(String(failure)).not.toContain("query-token-123");
  });
});
