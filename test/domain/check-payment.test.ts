import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import { type PaymentDTO, parseAmount, paymentMismatches } from "../../src/domain/index.js";
import { a2uPayment } from "../helpers/payment.js";

const wallet = Keypair.random().publicKey();
const recipient = Keypair.random().publicKey();
const payment: PaymentDTO = a2uPayment({
  identifier: "a".repeat(28),
  amount: 2.5,
  from_address: wallet,
  to_address: recipient,
});
const expected = {
  walletAddress: wallet,
  network: "Pi Testnet",
  amount: parseAmount("2.5"),
  uid: "u1",
  toAddress: recipient,
};

describe("checking a payment before signing (P5)", () => {
  test("a payment that matches has no mismatch", () => {
    expect(paymentMismatches(payment, expected)).toEqual([]);
  });

  test.each([
    ["amount", { amount: 2.6 }],
    ["user_uid", { user_uid: "u2" }],
    ["to_address", { to_address: Keypair.random().publicKey() }],
    ["to_address", { to_address: "not-an-address" }],
    ["direction", { direction: "user_to_app" as const }],
    ["from_address", { from_address: Keypair.random().publicKey() }],
    ["network", { network: "Pi Network" }],
    ["status.cancelled", { status: { ...payment.status, cancelled: true } }],
    ["status.cancelled", { status: { ...payment.status, user_cancelled: true } }],
    ["status.developer_completed", { status: { ...payment.status, developer_completed: true } }],
    ["transaction", { transaction: { txid: "f".repeat(64), verified: true, _link: "x" } }],
  ])("a different %s is named", (field, change) => {
    expect(paymentMismatches({ ...payment, ...change }, expected).map((m) => m.field)).toEqual([
      field,
    ]);
  });

  test("fields Pi omitted are not held against it", () => {
    const { from_address: _f, direction: _d, network: _n, ...partial } = payment;
    expect(paymentMismatches(partial as PaymentDTO, expected)).toEqual([]);
  });
});
