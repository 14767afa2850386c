import { describe, expect, test } from "vitest";
import { testSandbox } from "../helpers/sandbox.js";
import { horizonOf, signedPayment, submitAndClose } from "../helpers/stellar.js";

describe("the wall clock", () => {
  test("when fast closes run ahead of the wall clock, the server time is the last close, never behind it", async () => {
    const sandbox = await testSandbox({ clock: "wall" });
    // Each close advances at least 1 s: five at once put the chain seconds ahead of real time.
    for (let i = 0; i < 5; i++) await sandbox.closeLedger();
    const closedMs = sandbox.chain.latest.closedAt * 1000;
    expect(closedMs).toBeGreaterThan(Date.now() + 2000);

    expect(sandbox.chain.now()).toBeGreaterThanOrEqual(closedMs);
    const answer = await fetch(`${sandbox.horizonUrl}/`);
    expect(Date.parse(answer.headers.get("date")!)).toBeGreaterThanOrEqual(closedMs);
    const pi = await fetch(`${sandbox.apiUrl}/v2/payments/incomplete_server_payments`, {
      headers: { Authorization: `Key ${sandbox.apiKey}` },
    });
    expect(Date.parse(pi.headers.get("date")!)).toBeGreaterThanOrEqual(closedMs);
  });

  test("a transaction whose time bound a client derived from the Date header still lands after fast closes", async () => {
    const sandbox = await testSandbox({ clock: "wall" });
    for (let i = 0; i < 5; i++) await sandbox.closeLedger();
    // stellar-sdk records the server time of every answer; refresh it from this sandbox.
    await horizonOf(sandbox).root();
    const tx = await signedPayment(sandbox, {
      to: sandbox.users[0]!.address!,
      amount: "1",
      timeoutSeconds: 3,
    });
    expect(Number(tx.timeBounds?.maxTime)).toBeGreaterThan(sandbox.chain.latest.closedAt);
    expect(await submitAndClose(sandbox, tx)).toMatchObject({ successful: true });
  });

  test("the wall clock follows real time when the chain is not ahead", async () => {
    const sandbox = await testSandbox({ clock: "wall" });
    const before = Date.now();
    const now = sandbox.chain.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
