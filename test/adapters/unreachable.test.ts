import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

const run = promisify(execFile);
const dist = new URL("../../dist/index.js", import.meta.url).href;
const args = new URL("../../dist/domain/payment-args.js", import.meta.url).href;

/** A loopback port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ky 1.x left a POST with a body pending for ever on Node 20 when fetch refused it before
// connecting (port 9 is on fetch's blocklist): in a process with nothing else to do (a
// one-shot CLI command) it exited with code 13 and no word. src/adapters/buffered-fetch.ts
// is the fix. Each call runs in a fresh `node` on the built library, as a user's script
// would, against a blocked port and against a closed one.
describe("Pi unreachable", () => {
  const calls = [
    [
      "createPayment",
      "p.createPayment(parsePaymentArgs({ amount: '1', memo: 'm', metadata: {}, uid: 'u1' }))",
      true,
    ],
    ["approvePayment", "p.approvePayment('a'.repeat(20))", true],
    ["completePayment", "p.completePayment('a'.repeat(20), 'b'.repeat(64))", true],
    ["cancelPayment", "p.cancelPayment('a'.repeat(20))", true],
    ["getPayment", "p.getPayment('a'.repeat(20))", false],
  ] as const;
  test.each(
    calls.flatMap(([name, call, write]) => [
      [name, "blocked port 9", call, write] as const,
      [name, "a closed port", call, write] as const,
    ]),
  )("%s on %s rejects PI_UNREACHABLE", async (_name, where, call, write) => {
    const port = where === "a closed port" ? await closedPort() : 9;
    const script = `
      import { createPiPlatform } from ${JSON.stringify(dist)};
      import { parsePaymentArgs } from ${JSON.stringify(args)};
      const p = createPiPlatform({ apiKey: "test-key", baseUrl: "http://127.0.0.1:${port}",
        retry: { limit: 1, initialDelayMs: 1, maxDelayMs: 1 } });
      try { await ${call}; console.log("resolved"); }
      catch (e) { console.log(JSON.stringify({ code: e.code, outcomeUnknown: e.outcomeUnknown, message: e.message })); }
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 20_000,
    });
    const answer = JSON.parse(stdout.trim()) as {
      code: string;
      outcomeUnknown: boolean;
      message: string;
    };
    expect(answer.code).toBe("PI_UNREACHABLE");
    expect(answer.outcomeUnknown).toBe(write);
    expect(answer.message).not.toContain("test-key");
  });
});
