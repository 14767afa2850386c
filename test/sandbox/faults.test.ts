import { describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { piFetch, testSandbox } from "../helpers/sandbox.js";
import { horizonOf, signedPayment } from "../helpers/stellar.js";

const createBody = (uid: string) => ({ payment: { amount: 1, memo: "m", metadata: {}, uid } });

async function admin(sandbox: Sandbox, method: string, path: string, body?: unknown) {
  const response = await fetch(`${sandbox.apiUrl}/__sandbox${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read the admin answers field by field.
  return { status: response.status, body: (await response.json()) as any };
}

describe("sandbox faults", () => {
  test("latency per endpoint delays only that endpoint", async () => {
    const sandbox = await testSandbox({
      faults: [{ route: "GET /v2/payments/incomplete_server_payments", kind: "latency", ms: 120 }],
    });
    const timed = async (path: string) => {
      const start = performance.now();
      await piFetch(sandbox, "GET", path);
      return performance.now() - start;
    };
    expect(await timed("/v2/payments/incomplete_server_payments")).toBeGreaterThanOrEqual(110);
    await timed("/v2/payments/none");
    // What was delayed is read off the request log, not a clock a loaded machine slows down.
    expect(sandbox.requests().map((r) => [r.path, r.faults])).toEqual([
      ["/v2/payments/incomplete_server_payments", ["latency"]],
      ["/v2/payments/none", []],
    ]);
  });

  test("5xx before applying, with a JSON or an HTML body, changes nothing", async () => {
    const sandbox = await testSandbox({
      faults: [
        { route: "POST /v2/payments", kind: "error", status: 503, body: "json", times: 1 },
        { route: "POST /v2/payments", kind: "error", status: 500, body: "html", times: 1 },
      ],
    });
    const uid = sandbox.users[0]!.uid;
    const json = await piFetch(sandbox, "POST", "/v2/payments", createBody(uid));
    expect(json.status).toBe(503);
    expect(json.body.error).toBe("unknown_error");
    const html = await piFetch(sandbox, "POST", "/v2/payments", createBody(uid));
    expect(html.status).toBe(500);
    expect(String(html.body)).toMatch(/^<!DOCTYPE html>/);
    expect(sandbox.payments()).toHaveLength(0);
    expect((await piFetch(sandbox, "POST", "/v2/payments", createBody(uid))).status).toBe(200);
  });

  test("5xx after applying: the payment exists although the answer was an error", async () => {
    const sandbox = await testSandbox({
      faults: [{ route: "POST /v2/payments", kind: "error", status: 500, when: "after" }],
    });
    const answer = await piFetch(
      sandbox,
      "POST",
      "/v2/payments",
      createBody(sandbox.users[0]!.uid),
    );
    expect(answer.status).toBe(500);
    expect(sandbox.payments()).toHaveLength(1);
  });

  test("504 after the transaction was applied", async () => {
    const sandbox = await testSandbox({
      faults: [{ route: "POST /transactions", kind: "error", status: 504, when: "after" }],
    });
    const tx = await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "1" });
    const answer = horizonOf(sandbox)
      .submitTransaction(tx, { skipMemoRequiredCheck: true })
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await sandbox.closeLedger();
    expect(((await answer) as { response: { status: number } }).response.status).toBe(504);
    expect(sandbox.ledgerPayments()).toHaveLength(1);
  });

  test("an answer lost after the request was applied: the connection drops, the state has changed", async () => {
    const sandbox = await testSandbox({
      faults: [
        { route: "POST /v2/payments/*/cancel", kind: "drop" },
        { route: "POST /transactions", kind: "drop" },
      ],
    });
    const { body: payment } = await piFetch(
      sandbox,
      "POST",
      "/v2/payments",
      createBody(sandbox.users[0]!.uid),
    );
    await expect(
      piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/cancel`),
    ).rejects.toThrow(/fetch failed/);
    expect(sandbox.payments()[0]!.status.cancelled).toBe(true);

    const tx = await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "1" });
    const answer = horizonOf(sandbox)
      .submitTransaction(tx, { skipMemoRequiredCheck: true })
      .catch((e: unknown) => e);
    // Ledgers close until the submission is answered: under load it may reach the sandbox
    // after the first close (a single close after 20 ms timed the test out in a full run).
    let answered = false;
    void answer.then(() => {
      answered = true;
    });
    while (!answered) {
      await sandbox.closeLedger();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(((await answer) as { code: string }).code).toBe("ECONNRESET");
    expect(sandbox.ledgerPayments()).toHaveLength(1);
    expect(sandbox.requests().filter((r) => r.status === "dropped")).toHaveLength(2);
  });

  test("tamper changes the payment in the answer, never in the sandbox's state", async () => {
    const sandbox = await testSandbox({
      faults: [
        {
          route: "GET /v2/payments/*",
          kind: "tamper",
          payment: { amount: 999, status: { cancelled: true } },
        },
      ],
    });
    const { body: created } = await piFetch(
      sandbox,
      "POST",
      "/v2/payments",
      createBody(sandbox.users[0]!.uid),
    );
    const { body: seen } = await piFetch(sandbox, "GET", `/v2/payments/${created.identifier}`);
    expect(seen.amount).toBe(999);
    expect(seen.status).toMatchObject({ cancelled: true, developer_approved: true });
    expect(sandbox.payments()[0]!.amount).toBe(1);
  });

  test("probability draws from the seed: the same seed hits the same requests", async () => {
    const pattern = async (seed: number) => {
      const sandbox = await testSandbox({
        seed,
        faults: [{ route: "GET /fee_stats", kind: "error", status: 502, probability: 0.5 }],
      });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++)
        statuses.push((await fetch(`${sandbox.horizonUrl}/fee_stats`)).status);
      return statuses;
    };
    const first = await pattern(11);
    expect(first).toContain(502);
    expect(first).toContain(200);
    expect(await pattern(11)).toEqual(first);
    expect(await pattern(12)).not.toEqual(first);
  });

  test("the admin endpoint sets and clears faults, closes ledgers, adds users and reports state", async () => {
    const sandbox = await testSandbox();
    expect(
      (
        await admin(sandbox, "PUT", "/faults", {
          rules: [{ route: "GET /fee_stats", kind: "error", status: 500 }],
        })
      ).status,
    ).toBe(200);
    expect((await fetch(`${sandbox.horizonUrl}/fee_stats`)).status).toBe(500);
    await admin(sandbox, "POST", "/faults", {
      rules: [{ route: "GET /", kind: "error", status: 502 }],
    });
    expect((await fetch(`${sandbox.horizonUrl}/`)).status).toBe(502);
    await admin(sandbox, "DELETE", "/faults");
    expect((await fetch(`${sandbox.horizonUrl}/fee_stats`)).status).toBe(200);
    expect(
      (await admin(sandbox, "PUT", "/faults", { rules: [{ route: "nonsense", kind: "error" }] }))
        .status,
    ).toBe(400);

    const before = sandbox.chain.latest.sequence;
    const closed = await admin(sandbox, "POST", "/ledgers");
    expect(closed.body.sequence).toBe(before + 1);
    const user = await admin(sandbox, "POST", "/users", { uid: "carol" });
    expect(user.body).toMatchObject({ uid: "carol" });
    expect(user.body.seed).toBeUndefined();
    expect(
      (await admin(sandbox, "GET", "")).body.users.map((u: { uid: string }) => u.uid),
    ).toContain("carol");
    expect((await admin(sandbox, "GET", "/payments")).body).toEqual([]);
    expect((await admin(sandbox, "GET", "/ledger-payments")).body).toEqual([]);
  });

  test("the request log keeps method, path, status and faults, never headers or bodies", async () => {
    const sandbox = await testSandbox();
    await piFetch(sandbox, "POST", "/v2/payments", createBody(sandbox.users[0]!.uid));
    const log = sandbox.requests();
    expect(log).toEqual([
      {
        at: expect.any(Number),
        face: "pi",
        method: "POST",
        path: "/v2/payments",
        status: 200,
        faults: [],
      },
    ]);
    expect(JSON.stringify(log)).not.toContain(sandbox.apiKey);
  });
});
