import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

/** A step's write and its journal line, for the tests that drive the SQLite store directly. */
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

/**
 * A payout is paid and its events are read (a consumer acts on them, a relay POSTs them);
 * the power goes; a new payout is paid. Returns the events seen before the cut whose id
 * names another step after it: a consumer deduplicating on the id would drop that step.
 */
async function cutAfterEventsSeen(feedSyncs: boolean) {
  const sandbox = await testSandbox();
  const closer = setInterval(() => {
    if (sandbox.chain.pendingCount() > 0) sandbox.chain.closeLedger();
  }, 5);
  try {
    const store = createPowerCutStore({ feedSyncs });
    const [first, second] = sandbox.users as [(typeof sandbox.users)[0], (typeof sandbox.users)[0]];
    const before = testPayouts(sandbox, { store, owner: "instance" });
    expect((await before.pay({ key: "a", uid: first.uid, amount: 1, memo: "m" })).state).toBe(
      "completed",
    );
    const seen = await before.events.read({ after: 0, limit: 100 });
    await before.close();
    const unsynced = store.lost;
    store.cut();
    const after = testPayouts(sandbox, { store, owner: "instance" });
    await after.pay({ key: "b", uid: second.uid, amount: 2, memo: "m" });
    await after.resume();
    const now = new Map(
      (await after.events.read({ after: 0, limit: 100 })).map((event) => [event.id, event]),
    );
    const renamed = seen.filter((event) => {
      const same = now.get(event.id);
      return same?.key !== event.key || same.step.version !== event.step.version;
    });
    return { seen, renamed, lost: store.lost - unsynced };
  } finally {
    clearInterval(closer);
  }
}

/**
 * The values a connection's `synchronous` is set to, in order, however the store sets it
 * (`PRAGMA` through exec or pragma()).
 */
function synchronousSets(database: import("better-sqlite3").Database): string[] {
  const sets: string[] = [];
  const seen = (source: string) => {
    const set = /^(?:PRAGMA )?synchronous = (\w+)$/i.exec(source.trim());
    if (set) sets.push(set[1]!.toUpperCase());
  };
  const exec = database.exec.bind(database);
  database.exec = ((source: string) => {
    seen(source);
    return exec(source);
  }) as typeof database.exec;
  const pragma = database.pragma.bind(database);
  database.pragma = ((source: string, options?: unknown) => {
    seen(source);
    return pragma(source, options as never);
  }) as typeof database.pragma;
  return sets;
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

  test("an event handed out was synced first: after the cut its id still names the same step", async () => {
    const { seen, renamed, lost } = await cutAfterEventsSeen(true);
    expect(seen.map((e) => e.type)).toContain("payout.completed");
    expect(renamed).toEqual([]);
    expect(lost).toBe(0);
  });

  test("a feed that hands out unsynced lines reuses a seen id for another payout's step", async () => {
    const { renamed, lost } = await cutAfterEventsSeen(false);
    expect(lost).toBeGreaterThan(0);
    expect(renamed.length).toBeGreaterThan(0);
  });

  test("the SQLite feed syncs the journal before it hands a line out, and only when a line is new", async () => {
    const { default: Database } = await import("better-sqlite3");
    const dir = mkdtempSync(join(tmpdir(), "pi-payments-feed-sync-"));
    try {
      const path = join(dir, "feed.db");
      const database = new Database(path);
      const sets = synchronousSets(database);
      const reader = createSqliteStore({ database });
      // Another process's connection writes the lines, without syncing its steps.
      const writer = createSqliteStore({ path });
      await writer.create({ key: "k", intent: {} as never, write: write as never }, line("a"));
      await writer.save("k", 1, write as never, line("b"));
      const read = async (after: number) => {
        sets.length = 0;
        const lines = await reader.readJournal(after, 100);
        return { to: lines.map((l) => l.to), sets: sets.join(" then ") || "no sync" };
      };
      expect(await read(0)).toEqual({ to: ["a", "b"], sets: "FULL then NORMAL" });
      // Nothing new: no second sync.
      expect(await read(0)).toEqual({ to: ["a", "b"], sets: "no sync" });
      expect(await read(2)).toEqual({ to: [], sets: "no sync" });
      await writer.save("k", 2, write as never, line("c"));
      expect(await read(2)).toEqual({ to: ["c"], sets: "FULL then NORMAL" });
      // A line this connection wrote in a synced commit needs no sync of its own.
      await reader.save("k", 3, write as never, line("d"), { durable: true });
      expect(await read(3)).toEqual({ to: ["d"], sets: "no sync" });
      // A create whose key exists commits nothing and syncs nothing: the line before it is
      // still unsynced (review finding: it was handed out unsynced).
      await reader.save("k", 4, write as never, line("e"));
      await reader.create({ key: "k", intent: {} as never, write: write as never }, line("x"));
      expect(await read(4)).toEqual({ to: ["e"], sets: "FULL then NORMAL" });
      // While another process holds the write lock, a read does not wait the store's busy
      // timeout on the event loop: it hands out only what is known synced, the rest next time.
      await writer.save("k", 5, write as never, line("f"));
      const locker = new Database(path);
      locker.exec("BEGIN IMMEDIATE");
      const started = Date.now();
      expect((await read(5)).to).toEqual([]);
      expect(Date.now() - started).toBeLessThan(1_000);
      locker.exec("COMMIT");
      locker.close();
      expect(await read(5)).toEqual({ to: ["f"], sets: "FULL then NORMAL" });
      // Synced by another connection: the feed_sync row says so, no second sync.
      await writer.save("k", 6, write as never, line("g"));
      expect((await writer.readJournal(6, 100)).map((l) => l.to)).toEqual(["g"]);
      expect(await read(6)).toEqual({ to: ["g"], sets: "no sync" });
      await writer.close();
      await reader.close();
      database.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("SQLite syncs exactly the saves marked durable, and every one with durability every-step", async () => {
    const { default: Database } = await import("better-sqlite3");
    for (const durability of ["critical", "every-step"] as const) {
      const database = new Database(":memory:");
      // Each save's commit runs under the `synchronous` the store sets around it (FULL syncs).
      const sets = synchronousSets(database);
      const store = createSqliteStore({ database, durability });
      const commits: string[] = [];
      const saving = async (name: string, run: () => Promise<unknown>) => {
        sets.length = 0;
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
