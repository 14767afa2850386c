import { createServer } from "node:net";
import { createWebSocketReceiver } from "@statelyai/inspect";
import { createInspectorServer } from "@statelyai/inspect/server";
import { describe, expect, test } from "vitest";
import type { InspectorLike } from "../../src/index.js";
import { testPayouts } from "../helpers/payouts.js";
import { testSandbox } from "../helpers/sandbox.js";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("live inspection", () => {
  test("every payout's machine reaches a local inspector server, with its definition; no secret does", async () => {
    const port = await freePort();
    const server = createInspectorServer({ port, autoOpen: false });
    const received: unknown[] = [];
    const receiver = createWebSocketReceiver({ server: `ws://localhost:${port}` });
    receiver.subscribe((event) => received.push(event));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const sandbox = await testSandbox({
      ledgerIntervalMs: 5,
      clock: "simulated",
      faults: [{ route: "POST /v2/payments", kind: "error", status: 500, body: "html", times: 1 }],
    });
    const payouts = testPayouts(sandbox, { inspect: { url: `ws://localhost:${port}` } });
    const done = await Promise.all([
      payouts.pay({ key: "watched-1", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" }),
      payouts.pay({ key: "watched-2", uid: sandbox.users[1]!.uid, amount: 2, memo: "m" }),
    ]);
    expect(done.map((p) => p.state)).toEqual(["completed", "completed"]);
    for (let i = 0; i < 100 && received.length < 14; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await payouts.close();
    server.stop();

    const events = received as Array<{
      type: string;
      sessionId: string;
      definition?: string;
      snapshot?: { value: unknown };
    }>;
    const actors = events.filter((e) => e.type === "@xstate.actor");
    expect(actors.map((a) => a.sessionId).sort()).toEqual(["watched-1", "watched-2"]);
    expect(JSON.parse(actors[0]!.definition!).id).toBe("payout");
    const snapshots = events.filter(
      (e) => e.type === "@xstate.snapshot" && e.sessionId === "watched-1",
    );
    expect(snapshots.at(-1)?.snapshot?.value).toBe("completed");
    expect(events.some((e) => e.type === "@xstate.event")).toBe(true);

    const everything = JSON.stringify(received);
    expect(everything).toContain(sandbox.walletAddress);
    expect(everything).not.toContain(sandbox.walletSeed);
    expect(everything).not.toContain(sandbox.apiKey);
  });

  test("an inspector object sees actors, events and snapshots in order", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 5, clock: "simulated" });
    const calls: string[] = [];
    const inspector: InspectorLike = {
      actor: (actor) => calls.push(`actor ${typeof actor === "string" ? actor : actor.sessionId}`),
      event: (id, event) => calls.push(`event ${id} ${event.type}`),
      snapshot: (id, snapshot) =>
        calls.push(`snapshot ${id} ${JSON.stringify((snapshot as { value: unknown }).value)}`),
    };
    const payouts = testPayouts(sandbox, { inspect: inspector });
    await payouts.pay({ key: "seen", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(calls[0]).toBe("actor seen");
    expect(calls).toContain("event seen createPiPayment.done");
    expect(calls.at(-1)).toBe('snapshot seen "completed"');
  });
});
