import { describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { piFetch, testSandbox } from "../helpers/sandbox.js";
import { horizonOf, signedPayment, submitAndClose } from "../helpers/stellar.js";

const createBody = (uid: string) => ({ payment: { amount: 3.14, memo: "m", metadata: {}, uid } });

async function raw(sandbox: Sandbox, path: string, init: RequestInit = {}) {
  const response = await fetch(`${sandbox.horizonUrl}${path}`, init);
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    latestLedger: response.headers.get("latest-ledger"),
    text: await response.text(),
  };
}

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe("garbled answers", () => {
  test("wrong-type on the Pi API: the request is applied, the payment's amount comes back a string", async () => {
    const sandbox = await testSandbox({
      faults: [
        { route: "POST /v2/payments", kind: "garble" },
        { route: "GET /v2/payments/*", kind: "garble", shape: "wrong-type" },
        { route: "POST /v2/payments/*/cancel", kind: "garble" },
      ],
    });
    const created = await piFetch(
      sandbox,
      "POST",
      "/v2/payments",
      createBody(sandbox.users[0]!.uid),
    );
    expect(created.status).toBe(200);
    expect(created.body.amount).toBe("3.14");
    const [stored] = sandbox.payments();
    expect(stored?.amount).toBe(3.14);
    const id = stored!.identifier;
    expect((await piFetch(sandbox, "GET", `/v2/payments/${id}`)).body.amount).toBe("3.14");
    const incomplete = await piFetch(sandbox, "GET", "/v2/payments/incomplete_server_payments");
    expect(incomplete.status).toBe(200);
    expect(Array.isArray(incomplete.body.incomplete_server_payments)).toBe(false);
    expect(incomplete.body.incomplete_server_payments["0"].amount).toBe("3.14");

    const cancelled = await piFetch(sandbox, "POST", `/v2/payments/${id}/cancel`);
    expect([cancelled.status, cancelled.body.amount]).toEqual([200, "3.14"]);
    expect(sandbox.payments()[0]!.status.cancelled).toBe(true);
    expect(sandbox.requests().map((r) => r.faults)).toEqual([
      ["garble wrong-type"],
      ["garble wrong-type"],
      ["garble wrong-type"],
      ["garble wrong-type"],
    ]);
  });

  test("a garbled answer keeps the real status: a refusal stays a refusal with an unreadable error code", async () => {
    const sandbox = await testSandbox({
      faults: [{ route: "POST /v2/payments/*/complete", kind: "garble" }],
    });
    const { body: payment } = await piFetch(
      sandbox,
      "POST",
      "/v2/payments",
      createBody(sandbox.users[0]!.uid),
    );
    const refused = await piFetch(sandbox, "POST", `/v2/payments/${payment.identifier}/complete`, {
      txid: "f".repeat(64),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe(400);
    expect(typeof refused.body.error_message).toBe("string");

    const tx = await signedPayment(sandbox, {
      to: payment.to_address,
      amount: "3.14",
      memo: payment.identifier,
    });
    await submitAndClose(sandbox, tx);
    const completed = await piFetch(
      sandbox,
      "POST",
      `/v2/payments/${payment.identifier}/complete`,
      { txid: tx.hash().toString("hex") },
    );
    expect([completed.status, completed.body.amount]).toEqual([200, "3.14"]);
    expect(sandbox.payments()[0]!.status.developer_completed).toBe(true);
  });

  test("empty, truncated and html shapes on the Pi API", async () => {
    const sandbox = await testSandbox();
    const { body: payment } = await piFetch(
      sandbox,
      "POST",
      "/v2/payments",
      createBody(sandbox.users[0]!.uid),
    );
    const path = `/v2/payments/${payment.identifier}`;
    sandbox.setFaults([{ route: "GET /v2/payments/*", kind: "garble", shape: "empty" }]);
    expect(await piFetch(sandbox, "GET", path)).toEqual({ status: 200, body: {} });

    sandbox.setFaults([{ route: "GET /v2/payments/*", kind: "garble", shape: "truncated" }]);
    const truncated = await fetch(`${sandbox.apiUrl}${path}`, {
      headers: { Authorization: `Key ${sandbox.apiKey}` },
    });
    const text = await truncated.text();
    expect(truncated.status).toBe(200);
    expect(truncated.headers.get("content-type")).toMatch(/^application\/json/);
    expect(text.length).toBeGreaterThan(10);
    expect(parses(text)).toBe(false);
    expect(JSON.stringify(payment).startsWith(text)).toBe(true);

    // An HTML page answers 200 even where the real answer was a 404.
    sandbox.setFaults([{ route: "GET /v2/payments/*", kind: "garble", shape: "html" }]);
    const html = await fetch(`${sandbox.apiUrl}/v2/payments/unknown`, {
      headers: { Authorization: `Key ${sandbox.apiKey}` },
    });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await html.text()).toMatch(/^<!DOCTYPE html>/);
  });

  test("wrong-type on Horizon records and pages: flipped fields that stellar-sdk refuses, pages without a records array", async () => {
    const sandbox = await testSandbox();
    const tx = await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "1" });
    const hash = tx.hash().toString("hex");
    await submitAndClose(sandbox, tx);
    sandbox.setFaults([
      { route: "GET /accounts/*", kind: "garble" },
      { route: "GET /transactions/*", kind: "garble" },
      { route: "GET /transactions", kind: "garble" },
      { route: "GET /ledgers/*", kind: "garble" },
      { route: "GET /", kind: "garble" },
    ]);
    const account = JSON.parse((await raw(sandbox, `/accounts/${sandbox.walletAddress}`)).text);
    expect(typeof account.sequence).toBe("number");
    expect(typeof account.balances[0].balance).toBe("number");
    await expect(horizonOf(sandbox).loadAccount(sandbox.walletAddress)).rejects.toThrow();

    const record = JSON.parse((await raw(sandbox, `/transactions/${hash}`)).text);
    expect({
      ledger: typeof record.ledger,
      successful: record.successful,
      hash: Array.isArray(record.hash),
    }).toEqual({ ledger: "string", successful: "true", hash: true });
    const page = JSON.parse((await raw(sandbox, "/transactions")).text);
    expect(Array.isArray(page._embedded.records)).toBe(false);
    expect(page._embedded.records["0"].hash).toBe(hash);
    expect(typeof JSON.parse((await raw(sandbox, "/ledgers/2")).text).sequence).toBe("string");
    const root = await raw(sandbox, "/");
    expect(typeof JSON.parse(root.text).history_latest_ledger).toBe("string");
    // The header stays honest: only the body is garbled.
    expect(root.latestLedger).toBe("2");

    const missing = JSON.parse((await raw(sandbox, `/transactions/${"0".repeat(64)}`)).text);
    expect(missing.status).toBe("404");
  });

  test("a garbled submission still lands: wrong-type, truncated and html answers to POST /transactions", async () => {
    const sandbox = await testSandbox();
    const submit = async (shape: "wrong-type" | "truncated" | "html") => {
      sandbox.setFaults([{ route: "POST /transactions", kind: "garble", shape }]);
      const tx = await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "1" });
      const answer = raw(sandbox, "/transactions", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ tx: tx.toEnvelope().toXDR("base64") }),
      });
      while (sandbox.chain.pendingCount() === 0) await new Promise((r) => setTimeout(r, 2));
      await sandbox.closeLedger();
      return answer;
    };
    const wrong = await submit("wrong-type");
    expect(wrong.status).toBe(200);
    expect(typeof JSON.parse(wrong.text).ledger).toBe("string");
    const truncated = await submit("truncated");
    expect([truncated.status, parses(truncated.text)]).toEqual([200, false]);
    expect(truncated.type).toMatch(/^application\/hal\+json/);
    const html = await submit("html");
    expect([html.status, html.type?.startsWith("text/html"), html.latestLedger]).toEqual([
      200,
      true,
      "4",
    ]);
    expect(sandbox.ledgerPayments()).toHaveLength(3);
  });

  test("one request meets at most one garble, error or drop: the next rule waits for the next request", async () => {
    const sandbox = await testSandbox({
      faults: [
        { route: "GET /fee_stats", kind: "garble", shape: "empty", times: 1 },
        { route: "GET /fee_stats", kind: "error", status: 502, times: 1 },
      ],
    });
    const first = await raw(sandbox, "/fee_stats");
    expect([first.status, first.text]).toEqual([200, "{}"]);
    expect((await raw(sandbox, "/fee_stats")).status).toBe(502);
    expect((await raw(sandbox, "/fee_stats")).status).toBe(200);
  });
});
