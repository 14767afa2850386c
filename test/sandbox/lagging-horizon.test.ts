import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { isValidationError } from "../../src/domain/errors.js";
import type { FaultRule, Sandbox } from "../../src/sandbox/index.js";
import { piFetch, testSandbox } from "../helpers/sandbox.js";
import { horizonOf, signedPayment, submitAndClose } from "../helpers/stellar.js";

/** A `lag` on every Horizon read, whatever its number of path segments. */
const lagEverywhere = (ledgers: number, extra: Partial<FaultRule> = {}): FaultRule[] =>
  ["/", "/*", "/*/*", "/*/*/*"].map((path) => ({
    route: `GET ${path}`,
    kind: "lag",
    ledgers,
    ...extra,
  }));

async function read(sandbox: Sandbox, path: string) {
  const response = await fetch(`${sandbox.horizonUrl}${path}`);
  return {
    status: response.status,
    latestLedger: response.headers.get("latest-ledger"),
    // biome-ignore lint/suspicious/noExplicitAny: tests read Horizon's JSON field by field.
    body: (await response.json()) as any,
  };
}

/**
 * Ledger 1: the wallet and users. Ledger 2: `early` funded. Ledger 3: the wallet pays user 1.
 * Ledger 4: `late` funded. Latest: ledger 6.
 */
async function chainWithHistory() {
  const sandbox = await testSandbox();
  const early = Keypair.random().publicKey();
  const late = Keypair.random().publicKey();
  await sandbox.closeLedger();
  sandbox.fund(early, "10");
  const tx = await signedPayment(sandbox, {
    to: sandbox.users[0]!.address!,
    amount: "1",
    memo: "lagged",
  });
  await submitAndClose(sandbox, tx);
  await sandbox.closeLedger();
  sandbox.fund(late, "10");
  await sandbox.closeLedger();
  await sandbox.closeLedger();
  expect(sandbox.chain.latest.sequence).toBe(6);
  expect(sandbox.chain.transaction(tx.hash().toString("hex"))?.ledger).toBe(3);
  return { sandbox, early, late, txid: tx.hash().toString("hex") };
}

describe("a lagging Horizon instance", () => {
  test("a lagged read answers as of an older ledger on every read route, with that ledger in Latest-Ledger", async () => {
    const { sandbox, early, late, txid } = await chainWithHistory();
    const wallet = sandbox.walletAddress;

    sandbox.setFaults(lagEverywhere(4));
    const root = await read(sandbox, "/");
    expect(root.latestLedger).toBe("2");
    expect(root.body).toMatchObject({
      ingest_latest_ledger: 2,
      history_latest_ledger: 2,
      core_latest_ledger: 2,
    });
    expect(root.body.history_latest_ledger_closed_at).toBe(
      new Date(sandbox.chain.ledgers[1]!.closedAt * 1000).toISOString().replace(".000Z", "Z"),
    );
    const newest = await read(sandbox, "/ledgers?order=desc&limit=1");
    expect(newest.body._embedded.records.map((l: { sequence: number }) => l.sequence)).toEqual([2]);
    const all = await read(sandbox, "/ledgers?order=asc&limit=200");
    expect(all.body._embedded.records).toHaveLength(2);
    expect((await read(sandbox, "/ledgers/2")).status).toBe(200);
    expect((await read(sandbox, "/ledgers/3")).status).toBe(404);
    expect((await read(sandbox, `/transactions/${txid}`)).status).toBe(404);
    expect((await read(sandbox, "/transactions")).body._embedded.records).toEqual([]);
    expect(
      (await read(sandbox, `/accounts/${wallet}/transactions`)).body._embedded.records,
    ).toEqual([]);
    expect((await read(sandbox, "/fee_stats")).body.last_ledger).toBe("2");
    expect((await read(sandbox, `/accounts/${early}`)).status).toBe(200);
    expect((await read(sandbox, `/accounts/${late}`)).status).toBe(404);
    expect((await read(sandbox, `/accounts/${late}/transactions`)).status).toBe(404);

    sandbox.setFaults(lagEverywhere(3));
    const found = await read(sandbox, `/transactions/${txid}`);
    expect({ status: found.status, latestLedger: found.latestLedger }).toEqual({
      status: 200,
      latestLedger: "3",
    });
    expect(
      (await read(sandbox, `/accounts/${wallet}/transactions`)).body._embedded.records.map(
        (r: { hash: string }) => r.hash,
      ),
    ).toEqual([txid]);

    sandbox.clearFaults();
    const fresh = await read(sandbox, "/");
    expect({ latest: fresh.latestLedger, ledger: fresh.body.history_latest_ledger }).toEqual({
      latest: "6",
      ledger: 6,
    });
    expect((await read(sandbox, `/accounts/${late}`)).status).toBe(200);
  });

  test("an account read as of a ledger has that ledger's balance, sequence and last change; one created later is 404", async () => {
    const { sandbox, early, late } = await chainWithHistory();
    const horizon = horizonOf(sandbox);
    const wallet = sandbox.walletAddress;
    const firstSequence = (1n << 32n).toString();

    sandbox.setFaults(lagEverywhere(4));
    const before = await horizon.loadAccount(wallet);
    expect({
      sequence: before.sequence,
      balance: before.balances[0]?.balance,
      lastModified: before.last_modified_ledger,
    }).toEqual({ sequence: firstSequence, balance: "100000.0000000", lastModified: 1 });
    expect((await horizon.loadAccount(early)).balances[0]?.balance).toBe("10.0000000");
    await expect(horizon.loadAccount(late)).rejects.toThrow(/Not Found/);

    sandbox.setFaults(lagEverywhere(3));
    const after = await horizon.loadAccount(wallet);
    expect({
      sequence: after.sequence,
      balance: after.balances[0]?.balance,
      lastModified: after.last_modified_ledger,
    }).toEqual({
      sequence: ((1n << 32n) + 1n).toString(),
      balance: "99998.9900000",
      lastModified: 3,
    });

    sandbox.setFaults(lagEverywhere(2));
    expect((await horizon.loadAccount(late)).balances[0]?.balance).toBe("10.0000000");
  });

  test("every Horizon answer carries Latest-Ledger: 404s, problem documents, fault errors and submissions; Pi answers do not", async () => {
    const sandbox = await testSandbox();
    await sandbox.closeLedger();
    const missing = await fetch(`${sandbox.horizonUrl}/transactions/${"0".repeat(64)}`);
    expect([missing.status, missing.headers.get("latest-ledger")]).toEqual([404, "2"]);
    const noRoute = await fetch(`${sandbox.horizonUrl}/no/such/route`);
    expect([noRoute.status, noRoute.headers.get("latest-ledger")]).toEqual([404, "2"]);
    const malformed = await fetch(`${sandbox.horizonUrl}/transactions`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "tx=nonsense",
    });
    expect([malformed.status, malformed.headers.get("latest-ledger")]).toEqual([400, "2"]);

    sandbox.setFaults([{ route: "GET /fee_stats", kind: "error", status: 503, body: "html" }]);
    const failed = await fetch(`${sandbox.horizonUrl}/fee_stats`);
    expect([failed.status, failed.headers.get("latest-ledger")]).toEqual([503, "2"]);
    sandbox.clearFaults();

    // A submission answers when its ledger closes: the header names that ledger.
    const tx = await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "1" });
    const answer = fetch(`${sandbox.horizonUrl}/transactions`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ tx: tx.toEnvelope().toXDR("base64") }),
    });
    while (sandbox.chain.pendingCount() === 0) await new Promise((r) => setTimeout(r, 2));
    await sandbox.closeLedger();
    const landed = await answer;
    expect([landed.status, landed.headers.get("latest-ledger")]).toEqual([200, "3"]);

    const pi = await fetch(`${sandbox.apiUrl}/v2/payments/incomplete_server_payments`, {
      headers: { Authorization: `Key ${sandbox.apiKey}` },
    });
    expect(pi.status).toBe(200);
    expect(pi.headers.get("latest-ledger")).toBeNull();
  });

  test("a lag applies to reads only: a submission answers at the latest ledger, and a lag rule for a write or the Pi API is refused", async () => {
    const sandbox = await testSandbox();
    await sandbox.closeLedger();
    await sandbox.closeLedger();
    sandbox.setFaults([{ route: "GET /transactions", kind: "lag", ledgers: 2 }]);
    const tx = await signedPayment(sandbox, { to: sandbox.users[0]!.address!, amount: "1" });
    const answer = (await submitAndClose(sandbox, tx)) as { ledger: number };
    expect(answer.ledger).toBe(4);
    const submission = sandbox.requests().find((r) => r.method === "POST")!;
    expect(submission).toMatchObject({ faults: [], latestLedger: 4 });
    // The rule stayed armed for the read it is meant for.
    expect((await read(sandbox, "/transactions")).latestLedger).toBe("2");

    for (const route of ["POST /transactions", "* /accounts/*", "GET /v2/payments/*"]) {
      const refused = await testSandbox({ faults: [{ route, kind: "lag" }] }).catch(
        (e: unknown) => e,
      );
      expect(isValidationError(refused)).toBe(true);
      expect(String((refused as Error).message)).toMatch(/lag fault applies to Horizon reads/);
    }
    const viaAdmin = await fetch(`${sandbox.apiUrl}/__sandbox/faults`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ rules: [{ route: "POST /transactions", kind: "lag" }] }),
    });
    expect(viaAdmin.status).toBe(400);
    expect((await piFetch(sandbox, "GET", "/v2/payments/incomplete_server_payments")).status).toBe(
      200,
    );
  });

  test("times and probability limit a lag, it never goes below ledger 1, and the log records each view's ledger", async () => {
    const sandbox = await testSandbox({ seed: 7 });
    for (let i = 0; i < 5; i++) await sandbox.closeLedger();
    sandbox.setFaults([{ route: "GET /", kind: "lag", ledgers: 100, times: 1 }]);
    expect((await read(sandbox, "/")).body.history_latest_ledger).toBe(1);
    expect((await read(sandbox, "/")).body.history_latest_ledger).toBe(6);
    expect(sandbox.requests().map((r) => [r.faults, r.latestLedger])).toEqual([
      [["lag 100"], 1],
      [[], 6],
    ]);

    sandbox.setFaults([{ route: "GET /fee_stats", kind: "lag", ledgers: 2, probability: 0.5 }]);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add((await read(sandbox, "/fee_stats")).body.last_ledger);
    expect([...seen].sort()).toEqual(["4", "6"]);
  });

  test("an old view of an account changed in each of a thousand ledgers is exact", async () => {
    const sandbox = await testSandbox();
    const account = Keypair.random().publicKey();
    const balances: string[] = [];
    for (let i = 1; i <= 1000; i++) {
      balances.push(sandbox.fund(account, "1"));
      await sandbox.closeLedger();
    }
    // Funded at ledger i (1-based), the balance was i Pi from ledger i on.
    sandbox.setFaults([{ route: "GET /accounts/*", kind: "lag", ledgers: 1001 - 250 }]);
    const old = await read(sandbox, `/accounts/${account}`);
    expect({ ledger: old.latestLedger, balance: old.body.balances[0].balance }).toEqual({
      ledger: "250",
      balance: balances[249],
    });
  });
});
