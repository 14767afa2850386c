// A Pi platform and chain that answer at once, so that a figure holds only the library's
// own work (machine, runtime, store), without the network, HTTP clients or signing.
import { Keypair } from "@stellar/stellar-sdk";
import { createPayouts } from "pi-payments";

/** A Pi platform and chain that answer at once: the library's own cost, without the network. */
export function instantAdapters(walletAddress) {
  let n = 0;
  const payments = new Map();
  const recipient = Keypair.random().publicKey();
  return {
    platform: {
      name: "instant",
      async createPayment(args) {
        n += 1;
        const payment = {
          identifier: `P${String(n).padStart(27, "0")}`,
          user_uid: args.uid,
          amount: Number(args.amount),
          memo: args.memo,
          metadata: args.metadata,
          from_address: walletAddress,
          to_address: recipient,
          direction: "app_to_user",
          created_at: new Date().toISOString(),
          network: "Pi Testnet",
          status: {
            developer_approved: true,
            transaction_verified: false,
            developer_completed: false,
            cancelled: false,
            user_cancelled: false,
          },
          transaction: null,
        };
        payments.set(payment.identifier, payment);
        return payment;
      },
      async getPayment(id) {
        return payments.get(id);
      },
      async approvePayment(id) {
        return payments.get(id);
      },
      async completePayment(id, txid) {
        const p = payments.get(id);
        return {
          ...p,
          status: { ...p.status, developer_completed: true },
          transaction: { txid, verified: true, _link: "" },
        };
      },
      async cancelPayment(id) {
        return payments.get(id);
      },
      async incompleteServerPayments() {
        return [];
      },
      async me() {
        return { uid: "u" };
      },
      async close() {},
    },
    chain: {
      name: "instant",
      network: "Pi Testnet",
      horizonUrl: "",
      walletAddress,
      timeBoundSeconds: 60,
      async buildPayment(request) {
        const txid = Buffer.from(request.paymentId.padEnd(32, "0")).toString("hex").slice(0, 64);
        return { envelope: "AAAA", txid, source: walletAddress, sequence: "1", maxTime: 0 };
      },
      async preparePayment(expected) {
        return { status: "built", transaction: await this.buildPayment(expected), ignored: [] };
      },
      giveBack() {},
      async submit(tx) {
        return { status: "applied", txid: tx.txid, ledger: 1 };
      },
      async fate() {
        return { status: "pending" };
      },
      async getTransaction() {
        return undefined;
      },
      async findPaymentTransaction() {
        return { found: undefined, ignored: [] };
      },
      async latestLedger() {
        return { sequence: 1, closedAt: 0 };
      },
      async account() {
        return { balance: "1000", sequence: "1" };
      },
      async close() {},
    },
  };
}

/**
 * A runtime on `store` whose Pi and chain answer at once. `options` go to createPayouts
 * (an `onSettled`, telemetry, …).
 */
export function instantPayouts(store, options = {}) {
  const wallet = Keypair.random();
  return createPayouts({
    apiKey: "bench-api-key",
    walletSeed: wallet.secret(),
    network: "Pi Testnet",
    store,
    ...instantAdapters(wallet.publicKey()),
    slotPollMs: 1,
    ...options,
  });
}
