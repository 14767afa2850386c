import { Keypair } from "@stellar/stellar-sdk";
import { describe, expect, test } from "vitest";
import type { Payout } from "../../src/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { createPowerCutStore } from "../helpers/power-cut-store.js";
import { eventually, testSandbox } from "../helpers/sandbox.js";

/**
 * Which saves must survive a power cut. Every save survives a process crash; a power cut
 * loses what was not synced, and the payout resumes from an earlier step. The store syncs
 * only the saves the machine marks durable (a new payout, a new envelope, a cancel): these
 * tests cut the power where a lost save would cost money, with and without that marking.
 */

function fundChannels(sandbox: Sandbox, count: number): Keypair[] {
  return Array.from({ length: count }, () => {
    const channel = Keypair.random();
    sandbox.fund(channel.publicKey(), "100");
    return channel;
  });
}

/**
 * Two payouts send their envelopes through two channels; the power goes while both wait
 * for a ledger; the process comes back with other channels (its configuration changed, or
 * it is another process of the fleet). If the envelopes' saves were lost, each payout signs
 * again, on an account whose sequence no earlier envelope holds, and its first envelope
 * still lands: paid twice.
 */
async function cutWhileEnvelopesWait(honourDurable: boolean): Promise<{
  sandbox: Sandbox;
  payouts: Payout[];
  lost: number;
}> {
  const sandbox = await testSandbox({ incompleteLimit: "user", linkLagMs: "never" });
  const [c1, c2, c3, c4] = fundChannels(sandbox, 4) as [Keypair, Keypair, Keypair, Keypair];
  const store = createPowerCutStore({ honourDurable });
  const options = { store, owner: "instance", incompleteLimit: "user" as const };
  const before = testPayouts(sandbox, { ...options, channels: [c1.secret(), c2.secret()] });
  const [a, b] = sandbox.users as [(typeof sandbox.users)[0], (typeof sandbox.users)[0]];
  void before.pay({ key: "a", uid: a.uid, amount: 3, memo: "m" }).catch(() => undefined);
  void before.pay({ key: "b", uid: b.uid, amount: 4, memo: "m" }).catch(() => undefined);
  await eventually(() => sandbox.chain.pendingCount() === 2);
  await before.close({ abandon: true });
  store.cut();

  const after = testPayouts(sandbox, { ...options, channels: [c3.secret(), c4.secret()] });
  const resuming = after.resume();
  // No ledger closes until each payout's envelope on record waits in Horizon's queue: then
  // whatever was sent before the cut and after it lands together.
  await eventually(async () => {
    const records = await Promise.all(["a", "b"].map((key) => store.get(key)));
    return records.every((r) => r?.txid && sandbox.chain.isPending(r.txid));
  });
  const closer = setInterval(() => {
    if (sandbox.chain.pendingCount() > 0) sandbox.chain.closeLedger();
  }, 5);
  try {
    return { sandbox, payouts: await resuming, lost: store.lost };
  } finally {
    clearInterval(closer);
  }
}

describe("a power cut", () => {
  test("while envelopes wait for a ledger: their saves were synced, each payout resends its own, paid once", async () => {
    const { sandbox, payouts, lost } = await cutWhileEnvelopesWait(true);
    expect(payouts.map((p) => p.state)).toEqual(["completed", "completed"]);
    expectPaidAtMostOnce(sandbox, payouts);
    expect(sandbox.ledgerPayments()).toHaveLength(2);
    // What the cut lost (lease renewals at most) did not matter.
    expect(lost).toBeGreaterThanOrEqual(0);
  });

  test("the same cut with the envelopes' saves unsynced pays a user twice: that save must be durable", async () => {
    const { sandbox } = await cutWhileEnvelopesWait(false);
    const perMemo = new Map<string, number>();
    for (const paid of sandbox.ledgerPayments())
      perMemo.set(paid.memo ?? "", (perMemo.get(paid.memo ?? "") ?? 0) + 1);
    expect(Math.max(...perMemo.values())).toBeGreaterThan(1);
  });

  test("after a cancel: the cancel was synced, the payout stays cancelled and pays nothing", async () => {
    const sandbox = await testSandbox();
    const store = createPowerCutStore();
    const before = testPayouts(sandbox, { store, owner: "instance" });
    const uid = sandbox.users[0]!.uid;
    // Nothing else syncs after the cancel: a second payout's steps are all lost to the cut.
    const blocker = before.pay({ key: "first", uid, amount: 1, memo: "m" });
    await eventually(async () => (await before.get("first"))?.stateDetail === "submitted.sending");
    void blocker.catch(() => undefined);
    await before.enqueue({ key: "cancelled", uid, amount: 2, memo: "m" });
    expect((await before.cancel("cancelled")).state).toBe("cancelled");
    await before.close({ abandon: true });
    store.cut();

    const after = testPayouts(sandbox, { store, owner: "instance" });
    const closer = setInterval(() => {
      if (sandbox.chain.pendingCount() > 0) sandbox.chain.closeLedger();
    }, 5);
    try {
      await after.resume();
      expect((await after.get("cancelled"))?.state).toBe("cancelled");
      expect(sandbox.ledgerPayments().filter((p) => p.amount === "2")).toEqual([]);
    } finally {
      clearInterval(closer);
    }
  });

  test("SQLite syncs exactly the saves marked durable, and every one with durability every-step", async () => {
    const { default: Database } = await import("better-sqlite3");
    const write = {
      snapshot: { status: "active", value: "created", historyValue: {}, context: {}, children: {} },
      state: "created" as const,
      stateDetail: "created.queued",
      paymentId: null,
      txid: null,
      atRest: false,
      holdsSlot: true,
      at: new Date().toISOString(),
    };
    const line = (to: string) => ({
      at: write.at,
      from: null,
      to,
      event: "E",
      details: {},
      owner: null,
    });
    for (const durability of ["critical", "every-step"] as const) {
      const database = new Database(":memory:");
      // Each save's commit runs under the `synchronous` the store sets around it (FULL syncs).
      const pragma = database.pragma.bind(database);
      let sets: string[] = [];
      database.pragma = ((source: string, options?: unknown) => {
        const set = /^synchronous = (\w+)$/.exec(source);
        if (set) sets.push(set[1]!);
        return pragma(source, options as never);
      }) as typeof database.pragma;
      const store = createSqliteStore({ database, durability });
      const commits: string[] = [];
      const saving = async (name: string, run: () => Promise<unknown>) => {
        sets = [];
        await run();
        commits.push(`${name}: ${sets.join(" then ") || "unchanged"}`);
      };
      await saving("create", () =>
        store.create({ key: "k", intent: {} as never, write: write as never }, line("a")),
      );
      await saving("step", () => store.save("k", 1, write as never, line("b")));
      await saving("envelope", () =>
        store.save("k", 2, write as never, line("c"), { durable: true }),
      );
      await saving("step", () => store.save("k", 3, write as never, line("d")));
      expect((await store.journal("k")).map((e) => e.to)).toEqual(["a", "b", "c", "d"]);
      expect(commits, durability).toEqual(
        durability === "critical"
          ? [
              // A host's handle is readied (NORMAL) when the store is created.
              "create: FULL then NORMAL",
              "step: unchanged",
              "envelope: FULL then NORMAL",
              "step: unchanged",
            ]
          : ["create: unchanged", "step: unchanged", "envelope: unchanged", "step: unchanged"],
      );
      await store.close();
      database.close();
    }
  });
});
