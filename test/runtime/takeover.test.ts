import { describe, expect, test } from "vitest";
import { ConflictError, type PayoutStore } from "../../src/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { testSandbox } from "../helpers/sandbox.js";

const fast = { ledgerIntervalMs: 5, clock: "simulated" as const };

describe("leases between processes", () => {
  test("a worker cut off past its lease stops writing; the one that took over completes the payout once", async () => {
    const sandbox = await testSandbox(fast);
    const shared = createMemoryStore();
    let partitioned = false;
    // Worker A's view of the store: renewals fail while it is cut off.
    const viaA: PayoutStore = {
      ...shared,
      renewAll: async (...args) => (partitioned ? [] : shared.renewAll(...args)),
    };
    let resumeA!: () => void;
    const a = testPayouts(sandbox, {
      store: viaA,
      owner: "worker-a",
      leaseMs: 150,
      probe: async (point) => {
        if (
          point.point === "effect:start" &&
          point.effect === "submitTransaction" &&
          !partitioned
        ) {
          partitioned = true;
          await new Promise<void>((resolve) => {
            resumeA = resolve;
          });
        }
      },
    });
    const payingA = a.pay({ key: "contested", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
    while (!partitioned) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 200));

    const b = testPayouts(sandbox, { store: shared, owner: "worker-b", leaseMs: 150 });
    const [done] = await b.resume();
    expect(done).toMatchObject({ key: "contested", state: "completed" });

    resumeA();
    await expect(payingA).resolves.toMatchObject({ state: "completed" });
    const journal = await shared.journal("contested");
    const firstB = journal.findIndex((j) => j.owner === "worker-b");
    expect(firstB).toBeGreaterThan(0);
    expect(journal.slice(firstB).every((j) => j.owner === "worker-b")).toBe(true);
    expectPaidAtMostOnce(sandbox, [done!]);
  });

  test("an envelope built but never saved (its save was refused) does not hold the wallet's sequence", async () => {
    const sandbox = await testSandbox(fast);
    const shared = createMemoryStore();
    let refused = 0;
    // The lease lost between signing and saving: the save of the signed envelope is refused once.
    const store: PayoutStore = {
      ...shared,
      save: async (key, version, write, entry, options) => {
        if (entry.event === "buildTransaction.done" && refused === 0) {
          refused += 1;
          throw new ConflictError(`Payout ${key} is held by another process.`);
        }
        return shared.save(key, version, write, entry, options);
      },
    };
    // Without giving the sequence back, the next build would wait out twice the time bound
    // (20 minutes here): the test's timeout catches that.
    const payouts = testPayouts(sandbox, { store, timeBoundSeconds: 600 });
    const payout = await payouts.pay({
      key: "k",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    expect(refused).toBe(1);
    expect(payout.state).toBe("completed");
    expectPaidAtMostOnce(sandbox, [payout]);
  });

  test("payouts queued behind a dead process's payout take it over once its lease expires", async () => {
    const sandbox = await testSandbox({ ...fast, users: 3 });
    const shared = createMemoryStore();
    const dead = testPayouts(sandbox, {
      store: shared,
      owner: "dead",
      leaseMs: 100,
      probe: async (point) => {
        if (point.point === "effect:start" && point.effect === "buildTransaction")
          await new Promise(() => {});
      },
    });
    void dead
      .pay({ key: "holder", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" })
      .catch(() => undefined);
    while ((await shared.get("holder"))?.stateDetail !== "stored.signing")
      await new Promise((r) => setTimeout(r, 5));
    await dead.close({ abandon: true });

    const alive = testPayouts(sandbox, { store: shared, owner: "alive", leaseMs: 100 });
    const waiting = await Promise.all([
      alive.pay({ key: "next-1", uid: sandbox.users[1]!.uid, amount: 1, memo: "m" }),
      alive.pay({ key: "next-2", uid: sandbox.users[2]!.uid, amount: 1, memo: "m" }),
    ]);
    expect(waiting.map((p) => p.state)).toEqual(["completed", "completed"]);
    const holder = (await alive.get("holder"))!;
    expect(holder.state).toBe("completed");
    expect((await alive.journal("holder")).at(-1)?.owner).toBe("alive");
    expectPaidAtMostOnce(sandbox, [holder, ...waiting]);
  });
});
