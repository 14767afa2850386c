import { request } from "node:http";
import { networkInterfaces } from "node:os";
import { afterEach, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { type InspectorServer, startInspectorServer } from "../../src/runtime/inspector-server.js";
import { canConnect } from "../helpers/net.js";
import { testPayouts } from "../helpers/payouts.js";
import { testSandbox } from "../helpers/sandbox.js";

const servers: InspectorServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: Parameters<typeof startInspectorServer>[0] = {}) {
  const server = await startInspectorServer({ port: 0, ...options });
  servers.push(server);
  return server;
}

/** This machine's addresses other than loopback (none on some CI containers). */
function otherLocalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && a.family === "IPv4")
    .map((a) => a!.address);
}

/** A client of the server's WebSocket that keeps every message, parsed. */
async function listen(url: string, headers: Record<string, string> = {}) {
  const received: unknown[] = [];
  const socket = new WebSocket(url, { headers });
  socket.on("message", (data) => received.push(JSON.parse(data.toString())));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return { received, socket };
}

describe("the inspector server", () => {
  test("listens on loopback only: another interface of this machine cannot reach it", async () => {
    const server = await start();
    const { hostname, port } = new URL(server.url);
    expect(hostname).toBe("127.0.0.1");
    expect(server.websocketUrl).toBe(`ws://127.0.0.1:${port}`);
    expect(await canConnect("127.0.0.1", Number(port))).toBe(true);
    for (const address of otherLocalAddresses()) {
      expect(await canConnect(address, Number(port)), address).toBe(false);
    }
  });

  test("the interface is configurable", async () => {
    const others = otherLocalAddresses();
    const host = others[0] ?? "127.0.0.1";
    const server = await start({ host });
    expect(new URL(server.url).hostname).toBe(host);
    expect(await canConnect(host, Number(new URL(server.url).port))).toBe(true);
  });

  test("serves a page embedding Stately's hosted inspector, and says it needs internet", async () => {
    const server = await start();
    const response = await fetch(server.url);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const page = await response.text();
    expect(page).toContain('"https://stately.ai/inspect"');
    expect(page).toContain("this browser needs internet access");
    // The page opens its socket on its own address, whatever name the browser used.
    expect(page).toContain(
      "new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host)",
    );
  });

  test("a WebSocket client receives every payout's machine a runtime sends; no secret reaches it", async () => {
    const server = await start();
    const { received, socket } = await listen(server.websocketUrl);
    const sandbox = await testSandbox({ ledgerIntervalMs: 5, clock: "simulated" });
    const payouts = testPayouts(sandbox, { inspect: { url: server.websocketUrl } });
    const payout = await payouts.pay({
      key: "seen-1",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    expect(payout.state).toBe("completed");
    const events = received as Array<{
      type: string;
      sessionId?: string;
      snapshot?: { value: unknown };
    }>;
    for (let i = 0; i < 100; i++) {
      const last = events.filter((e) => e.type === "@xstate.snapshot").at(-1);
      if (last?.snapshot?.value === "completed") break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await payouts.close();
    socket.close();
    expect(events.filter((e) => e.type === "@xstate.actor").map((e) => e.sessionId)).toEqual([
      "seen-1",
    ]);
    expect(events.some((e) => e.type === "@xstate.event")).toBe(true);
    expect(events.filter((e) => e.type === "@xstate.snapshot").at(-1)?.snapshot?.value).toBe(
      "completed",
    );
    const everything = JSON.stringify(received);
    expect(everything).toContain(sandbox.walletAddress);
    expect(everything).not.toContain(sandbox.walletSeed);
    expect(everything).not.toContain(sandbox.apiKey);

    // A page opened later still sees what happened (the last 200 messages).
    const late = await listen(server.websocketUrl);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(late.received.length).toBe(received.length);
    late.socket.close();
  });

  test("a web page of another origin cannot open its WebSocket", async () => {
    const server = await start();
    await expect(listen(server.websocketUrl, { Origin: "https://evil.example" })).rejects.toThrow(
      /403/,
    );
    const own = await listen(server.websocketUrl, { Origin: server.url });
    own.socket.close();
  });

  test("a port in use is a typed error naming it, not a crash", async () => {
    const server = await start();
    const port = Number(new URL(server.url).port);
    await expect(startInspectorServer({ port })).rejects.toMatchObject({
      code: "INSPECTOR_UNAVAILABLE",
      message: expect.stringContaining(`127.0.0.1:${port}: EADDRINUSE`),
    });
  });

  test("close() ends open connections and frees the port", async () => {
    const server = await startInspectorServer({ port: 0 });
    const { socket } = await listen(server.websocketUrl);
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await server.close();
    await closed;
    const port = Number(new URL(server.url).port);
    expect(await canConnect("127.0.0.1", port)).toBe(false);
    await new Promise<void>((resolve, reject) => {
      const probe = request(server.url);
      probe.once("error", () => resolve());
      probe.once("response", () => reject(new Error("still serving")));
      probe.end();
    });
  });
});
