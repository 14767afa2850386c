import { createRequire } from "node:module";
import { describe, expect, test } from "vitest";
import type { SandboxInfo } from "../../src/sandbox/index.js";
import { startCliJson } from "../helpers/cli.js";

// The official Node SDK (pi-backend 0.1.3, CommonJS, with its own stellar-sdk 10 and axios):
// a client written by someone else from Pi's and Horizon's public documentation.
const require = createRequire(import.meta.url);
const PiBackend = require("pi-backend").default;
const LegacyStellarSdk = require("stellar-sdk");

describe("the official Pi SDK against `pi-payments sandbox --json`", () => {
  test("completes an A2U payment with no change but its base URLs", async () => {
    const { first: info } = await startCliJson<SandboxInfo>([
      "sandbox",
      "--json",
      "--ledger-interval",
      "100",
    ]);
    expect(Object.keys(info).sort()).toEqual([
      "apiKey",
      "apiUrl",
      "horizonUrl",
      "network",
      "users",
      "walletAddress",
      "walletSeed",
    ]);

    const pi = new PiBackend(info.apiKey, info.walletSeed, { baseUrl: info.apiUrl });
    // pi-backend hard-codes Pi's Horizon hosts in this one method; only the URL changes here
    // (plus allowHttp, which stellar-sdk demands for a plain-http URL).
    pi.getHorizonClient = (network: string) => {
      pi.NETWORK_PASSPHRASE = network;
      return new LegacyStellarSdk.Server(info.horizonUrl, { allowHttp: true });
    };

    const user = info.users[0]!;
    const paymentId: string = await pi.createPayment({
      amount: 1.25,
      memo: "From the official SDK",
      metadata: { test: true },
      uid: user.uid,
    });
    expect(paymentId).toMatch(/^[A-Za-z0-9]{28}$/);
    const txid: string = await pi.submitPayment(paymentId, false);
    expect(txid).toMatch(/^[0-9a-f]{64}$/);
    const payment = await pi.completePayment(paymentId, txid);
    expect(payment.status.developer_completed).toBe(true);
    expect(payment.transaction).toMatchObject({ txid, verified: true });
    expect(payment.to_address).toBe(user.address);

    const ledger = await fetch(`${info.apiUrl}/__sandbox/ledger-payments`).then((r) => r.json());
    expect(ledger).toEqual([
      expect.objectContaining({ txid, memo: paymentId, amount: "1.25", to: user.address }),
    ]);
    expect(await pi.getIncompleteServerPayments()).toEqual({ incomplete_server_payments: [] });
  });
});
