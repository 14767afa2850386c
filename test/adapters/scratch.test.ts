import { inspect } from "node:util";
import { test, expect } from "vitest";
import { PiNetwork } from "../../src/index.js";
import { testSandbox } from "../helpers/sandbox.js";

test("scratch", async () => {
  const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
  const pi = new PiNetwork({ apiKey: sandbox.apiKey, walletSeed: sandbox.walletSeed, network: sandbox.network, apiUrl: sandbox.apiUrl, horizonUrl: sandbox.horizonUrl, resubmitDelayMs: 10 });
  console.log(inspect(pi, { depth: 10, showHidden: true }).includes(sandbox.walletSeed));
  const id = await pi.createPayment({ amount: "1.5", memo: "x", metadata: { k: 1 }, uid: sandbox.users[0]!.uid });
  sandbox.setFaults([{ route: "POST /transactions", kind: "drop", times: 1 }]);
  const txid = await pi.submitPayment(id);
  const done = await pi.completePayment(id, txid);
  console.log(done.status, sandbox.ledgerPayments().length, sandbox.requests().map((r) => `${r.method} ${r.path.slice(0, 50)} ${r.status} ${r.faults}`));
  expect(sandbox.ledgerPayments().length).toBe(1);
});
