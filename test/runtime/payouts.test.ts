import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { isValidationError, type PayoutStep, type Probe } from "../../src/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import type { PayoutStore } from "../../src/storage/types.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { piFetch, testSandbox } from "../helpers/sandbox.js";

const fast = { ledgerIntervalMs: 5, clock: "simulated" as const };

describe("createPayouts", () => {
  test("pay() completes a payout, and its journal tells every step", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const user = sandbox.users[0]!;
    const payout = await payouts.pay({
      key: "refund-42",
      uid: user.uid,
      amount: "3.14",
      memo: "Refund",
      metadata: { order: 42 },
    });
    expect(payout).toMatchObject({
      key: "refund-42",
      state: "completed",
      atRest: true,
      uid: user.uid,
      amount: "3.14",
      metadata: { order: 42 },
      toAddress: user.address,
      failure: null,
    });
    expect(payout.txid).toMatch(/^[0-9a-f]{64}$/);
    const journal = await payouts.journal("refund-42");
    expect(journal.map((j) => j.to)).toEqual([
      "created.queued",
      "created.creating",
      "stored.signing",
      "submitted.sending",
      "txStored.completing",
      "completed",
    ]);
    for (let i = 1; i < journal.length; i++) expect(journal[i]!.from).toBe(journal[i - 1]!.to);
    expect(journal.map((j) => j.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(journal[2]!.details).toMatchObject({ paymentId: payout.paymentId });
    expect(sandbox.payments()[0]!.metadata).toEqual({ order: 42, pi_payments_key: "refund-42" });
    expectPaidAtMostOnce(sandbox, [payout]);
  });

  test("paying the same key again returns the same payout and sends nothing", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const args = { key: "once", uid: sandbox.users[0]!.uid, amount: 2, memo: "m" };
    const first = await payouts.pay(args);
    const requests = sandbox.requests().length;
    const again = await payouts.pay(args);
    expect(again).toEqual(first);
    expect(sandbox.requests()).toHaveLength(requests);
    const [x, y] = await Promise.all([
      payouts.pay({ ...args, key: "twin" }),
      payouts.pay({ ...args, key: "twin" }),
    ]);
    expect(x.txid).toBe(y.txid);
    expect(sandbox.payments()).toHaveLength(2);
  });

  test("a key reused with different arguments is refused", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    await payouts.pay({ key: "k", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
    const error = await payouts
      .pay({ key: "k", uid: sandbox.users[0]!.uid, amount: 2, memo: "m" })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ValidationError", code: "KEY_REUSED" });
  });

  test("bad arguments are refused before anything is stored or sent", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const uid = sandbox.users[0]!.uid;
    for (const args of [
      { key: "", uid, amount: 1, memo: "m" },
      { key: " padded ", uid, amount: 1, memo: "m" },
      { key: "k", uid, amount: 0, memo: "m" },
      { key: "k", uid, amount: "1e2", memo: "m" },
      { key: "k", uid, amount: 1, memo: "m", metadata: { pi_payments_key: "x" } },
      { uid, amount: 1, memo: "m" },
    ]) {
      expect(isValidationError(await payouts.pay(args as never).catch((e: unknown) => e))).toBe(
        true,
      );
    }
    expect(await payouts.list()).toEqual([]);
    expect(sandbox.requests()).toEqual([]);
  });

  test("many payouts at once queue for Pi's one incomplete payment instead of failing", async () => {
    const sandbox = await testSandbox({ ...fast, users: 8 });
    const payouts = testPayouts(sandbox);
    const results = await Promise.all(
      sandbox.users.map((user, i) =>
        payouts.pay({ key: `q${i}`, uid: user.uid, amount: `${i + 1}`, memo: "queued" }),
      ),
    );
    expect(results.map((p) => p.state)).toEqual(Array(8).fill("completed"));
    const creates = sandbox
      .requests()
      .filter((r) => r.method === "POST" && r.path === "/v2/payments");
    expect(creates.map((r) => r.status)).toEqual(Array(8).fill(200));
    expectPaidAtMostOnce(sandbox, results);
  });

  test("under the per-user rule, payouts to different users overlap", async () => {
    const sandbox = await testSandbox({ ...fast, users: 4, incompleteLimit: "user" });
    const payouts = testPayouts(sandbox, { incompleteLimit: "user" });
    let open = 0;
    let maxOpen = 0;
    payouts.subscribe((event) => {
      if (event.from === "created.creating") open += 1;
      if (event.to === "completed") open -= 1;
      maxOpen = Math.max(maxOpen, open);
    });
    const results = await Promise.all(
      sandbox.users.map((user, i) =>
        payouts.pay({ key: `u${i}`, uid: user.uid, amount: 1, memo: "per user" }),
      ),
    );
    expect(results.every((p) => p.state === "completed")).toBe(true);
    expect(maxOpen).toBeGreaterThan(1);
    expectPaidAtMostOnce(sandbox, results);
  });

  test("pay() takes a free slot in the insert that stores the payout (no slot write of its own); a payout that finds it held queues and gets it after", async () => {
    const sandbox = await testSandbox({ ...fast, users: 1 });
    const inner = createSqliteStore({ path: ":memory:" });
    let slotWrites = 0;
    const store = {
      ...inner,
      acquireSlot: (scope: string, key: string) => {
        slotWrites += 1;
        return inner.acquireSlot(scope, key);
      },
    };
    const payouts = testPayouts(sandbox, { store });
    const uid = sandbox.users[0]!.uid;
    const first = await payouts.pay({ key: "alone", uid, amount: 1, memo: "m" });
    expect(first.state).toBe("completed");
    expect(slotWrites, "the free slot came with the insert").toBe(0);
    // Three at once under the per-app rule: one takes the slot with its insert, the others
    // find it held, queue, and take it in turn.
    const results = await Promise.all(
      ["q1", "q2", "q3"].map((key) => payouts.pay({ key, uid, amount: 1, memo: "m" })),
    );
    expect(results.map((p) => p.state)).toEqual(["completed", "completed", "completed"]);
    expect(slotWrites).toBeGreaterThanOrEqual(2);
    expect(await inner.slotHolder(`app:${payouts.walletAddress}`)).toBeUndefined();
    expectPaidAtMostOnce(sandbox, [first, ...results]);
  });

  test("one runner per payout in a process: a queued payout that finds the slot held by one pay() is starting does not start a second runner for it", async () => {
    // X takes the free slot in its insert; Y, queued behind it, asks to drive the holder
    // (as for a holder whose process died) while pay(X) is still reading X before starting
    // its runner: slow reads of X open that window (found by review with these delays).
    const sandbox = await testSandbox({ ...fast, users: 1 });
    const memory = createMemoryStore();
    const delays = [50, 0, 100];
    const store: PayoutStore = {
      ...memory,
      get: async (key) => {
        const delay = key === "X" ? (delays.shift() ?? 0) : 0;
        if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
        return memory.get(key);
      },
    };
    const starts: string[] = [];
    const probe: Probe = async (point) => {
      if (point.key === "X" && point.point === "effect:start")
        starts.push(`${point.effect} in ${point.state}`);
    };
    const payouts = testPayouts(sandbox, { store, probe });
    const uid = sandbox.users[0]!.uid;
    const x = payouts.pay({ key: "X", uid, amount: 1, memo: "m" });
    await new Promise((resolve) => setTimeout(resolve, 1));
    const y = payouts.pay({ key: "Y", uid, amount: 1, memo: "m" });
    const results = await Promise.all([x, y]);
    expect(results.map((p) => p.state)).toEqual(["completed", "completed"]);
    expect(starts, "each of X's effects started once").toEqual([...new Set(starts)]);
    expectPaidAtMostOnce(sandbox, results);
  });

  test("close() while pay() stores a new payout: pay() rejects CLOSED, and the payout's lease and slot wait for nobody", async () => {
    const sandbox = await testSandbox({ ...fast, users: 1 });
    const memory = createMemoryStore();
    let inserting: (() => void) | undefined;
    const store: PayoutStore = {
      ...memory,
      create: async (payout, entry, options) => {
        const created = await memory.create(payout, entry, options);
        // Stored; the answer reaches pay() only after close() has begun.
        await new Promise<void>((resolve) => {
          inserting = resolve;
        });
        return created;
      },
    };
    const payouts = testPayouts(sandbox, { store });
    const paid = payouts.pay({ key: "late", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
    while (!inserting) await new Promise((resolve) => setTimeout(resolve, 1));
    const closing = payouts.close();
    inserting();
    await expect(paid).rejects.toMatchObject({ code: "CLOSED" });
    await closing;
    const stored = await memory.get("late");
    expect(stored?.state).toBe("created");
    expect(stored?.lease, "given back: another process takes it up at once").toBeNull();
  });

  test("a foreign incomplete payment fails the payout with a reason, and recover() reports it", async () => {
    const sandbox = await testSandbox(fast);
    const foreign = await piFetch(sandbox, "POST", "/v2/payments", {
      payment: {
        amount: 9,
        memo: "made by another tool",
        metadata: { theirs: true },
        uid: sandbox.users[1]!.uid,
      },
    });
    const payouts = testPayouts(sandbox);
    const payout = await payouts.pay({
      key: "blocked",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    expect(payout).toMatchObject({
      state: "failed",
      failure: { code: "FOREIGN_ONGOING_PAYMENT", paymentOpen: false },
    });
    const report = await payouts.recover();
    expect(report.foreign.map((p) => p.identifier)).toEqual([foreign.body.identifier]);
    await piFetch(sandbox, "POST", `/v2/payments/${foreign.body.identifier}/cancel`);
    expect((await payouts.retry("blocked")).state).toBe("completed");
  });

  test("a late create of an ended payout (a stray) is cancelled when it blocks the next one, and recover() cancels the rest", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const user = sandbox.users[0]!.uid;
    const first = await payouts.pay({ key: "first", uid: user, amount: 1, memo: "m" });
    // What a create request still in flight when its process died looks like once it lands.
    const strayOf = async (key: string) =>
      (
        await piFetch(sandbox, "POST", "/v2/payments", {
          payment: { amount: 1, memo: "m", metadata: { pi_payments_key: key }, uid: user },
        })
      ).body.identifier as string;
    const stray = await strayOf("first");

    const second = await payouts.pay({ key: "second", uid: user, amount: 2, memo: "m" });
    expect(second.state).toBe("completed");
    const cancelled = sandbox.payments().find((p) => p.identifier === stray)!;
    expect(cancelled.status).toMatchObject({ cancelled: true, developer_completed: false });
    const created = (await payouts.journal("second")).find(
      (e) => e.event === "createPiPayment.done",
    );
    expect(created?.details).toMatchObject({ cancelledStrays: [stray] });
    expect(sandbox.ledgerPayments().map((p) => p.memo)).toEqual([
      first.paymentId,
      second.paymentId,
    ]);

    // A stray nothing runs into is left for recover(), which cancels it too.
    const late = await strayOf("second");
    const report = await payouts.recover();
    expect(report.cancelledStrays.map((p) => p.identifier)).toEqual([late]);
    expect(sandbox.payments().filter((p) => !p.status.cancelled)).toHaveLength(2);
  });

  test("a payment that differs from the intent is cancelled and never signed (P5)", async () => {
    const sandbox = await testSandbox({
      ...fast,
      faults: [{ route: "POST /v2/payments", kind: "tamper", payment: { amount: 100 } }],
    });
    const payouts = testPayouts(sandbox);
    const payout = await payouts.pay({
      key: "tampered",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    expect(payout).toMatchObject({
      state: "failed",
      failure: { code: "PAYMENT_MISMATCH", paymentOpen: false },
    });
    expect(sandbox.payments()[0]!.status.cancelled).toBe(true);
    expect(sandbox.requests().some((r) => r.path === "/transactions")).toBe(false);
  });

  test("cancel: before its Pi payment exists, while it is being signed, and never once paid", async () => {
    const sandbox = await testSandbox(fast);
    let hold: (() => void) | undefined;
    const probe: Probe = (point) => {
      if (
        point.point === "effect:start" &&
        point.effect === "buildTransaction" &&
        point.key === "signing"
      ) {
        return new Promise<void>((resolve) => {
          hold = resolve;
        });
      }
    };
    const payouts = testPayouts(sandbox, { probe });
    const signing = payouts.pay({
      key: "signing",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    const queued = payouts.pay({ key: "queued", uid: sandbox.users[1]!.uid, amount: 1, memo: "m" });
    for (let i = 0; i < 200 && !hold; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hold).toBeDefined();

    const cancelledQueued = await payouts.cancel("queued");
    expect(cancelledQueued).toMatchObject({ state: "cancelled", paymentId: null });
    const cancelling = payouts.cancel("signing");
    hold!();
    expect(await cancelling).toMatchObject({ state: "cancelled" });
    expect((await signing).state).toBe("cancelled");
    expect((await queued).state).toBe("cancelled");
    expect(sandbox.payments().map((p) => p.status.cancelled)).toEqual([true]);
    expect(sandbox.ledgerPayments()).toEqual([]);

    const paid = await payouts.pay({
      key: "paid",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    await expect(payouts.cancel(paid.key)).rejects.toMatchObject({ code: "CANCEL_TOO_LATE" });
    await expect(payouts.cancel("nope")).rejects.toMatchObject({ code: "PAYOUT_NOT_FOUND" });
  });

  test.each([
    [
      "a 5xx on create before it applied",
      [{ route: "POST /v2/payments", kind: "error", status: 503, times: 2 }],
    ],
    [
      "a 5xx on create after it applied",
      [{ route: "POST /v2/payments", kind: "error", status: 500, when: "after", times: 1 }],
    ],
    ["a lost answer on create", [{ route: "POST /v2/payments", kind: "drop", times: 1 }]],
    [
      "an HTML 502 from Horizon",
      [{ route: "POST /transactions", kind: "error", status: 502, body: "html", times: 2 }],
    ],
    [
      "a 504 after the transaction applied",
      [{ route: "POST /transactions", kind: "error", status: 504, when: "after", times: 1 }],
    ],
    ["a lost answer on submit", [{ route: "POST /transactions", kind: "drop", times: 1 }]],
    [
      "a lost answer on complete",
      [{ route: "POST /v2/payments/*/complete", kind: "drop", times: 1 }],
    ],
    [
      "5xx on complete",
      [{ route: "POST /v2/payments/*/complete", kind: "error", status: 503, times: 3 }],
    ],
    [
      "an older Horizon's tx_bad_seq for a landed transaction",
      [
        {
          route: "POST /transactions",
          kind: "error",
          status: 400,
          resultCodes: { transaction: "tx_bad_seq" },
          when: "after",
          times: 1,
        },
      ],
    ],
    [
      "slow Pi and Horizon",
      [
        { route: "POST /v2/payments", kind: "latency", ms: 30 },
        { route: "GET /accounts/*", kind: "latency", ms: 20 },
      ],
    ],
  ] as const)("%s: the payout completes, paid exactly once", async (_name, faults) => {
    const sandbox = await testSandbox({ ...fast, faults: faults as never });
    const payouts = testPayouts(sandbox);
    const payout = await payouts.pay({
      key: "faulty",
      uid: sandbox.users[0]!.uid,
      amount: "1.25",
      memo: "m",
    });
    expect(payout.state).toBe("completed");
    expect(sandbox.payments()).toHaveLength(1);
    expectPaidAtMostOnce(sandbox, [payout]);
  });

  test("Pi linking late or never does not matter: completion verifies by txid", async () => {
    for (const linkLagMs of [300, "never"] as const) {
      const sandbox = await testSandbox({ ...fast, linkLagMs });
      const payouts = testPayouts(sandbox);
      const payout = await payouts.pay({
        key: "lag",
        uid: sandbox.users[0]!.uid,
        amount: 1,
        memo: "m",
      });
      expect(payout.state).toBe("completed");
    }
  });

  test("after a crash (the runtime abandoned mid-submission), a new runtime resumes and pays once", async () => {
    const sandbox = await testSandbox(fast);
    const store = createMemoryStore();
    let crash!: () => void;
    const crashed = new Promise<void>((resolve) => {
      crash = resolve;
    });
    const first = testPayouts(sandbox, {
      store,
      owner: "instance-1",
      probe: async (point) => {
        if (point.point === "effect:end" && point.effect === "submitTransaction") {
          crash();
          await new Promise(() => {});
        }
      },
    });
    void first
      .pay({ key: "crashy", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" })
      .catch(() => undefined);
    await crashed;
    await first.close({ abandon: true });
    expect((await store.get("crashy"))?.stateDetail).toBe("submitted.sending");

    const second = testPayouts(sandbox, { store, owner: "instance-1" });
    const [resumed] = await second.resume();
    expect(resumed).toMatchObject({ key: "crashy", state: "completed" });
    expectPaidAtMostOnce(sandbox, [resumed!]);
  });

  test("recover() adopts a Pi payment a crashed create left behind, once", async () => {
    const sandbox = await testSandbox({
      ...fast,
      faults: [{ route: "POST /v2/payments", kind: "drop", times: 1 }],
    });
    const store = createMemoryStore();
    const first = testPayouts(sandbox, {
      store,
      owner: "a",
      probe: async (point) => {
        if (point.point === "effect:end" && point.effect === "createPiPayment")
          await new Promise(() => {});
      },
    });
    void first
      .pay({ key: "lost", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" })
      .catch(() => undefined);
    for (let i = 0; i < 200 && sandbox.payments().length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await first.close({ abandon: true });

    const second = testPayouts(sandbox, { store, owner: "a" });
    const report = await second.recover();
    expect(report.adopted).toEqual([{ key: "lost", paymentId: sandbox.payments()[0]!.identifier }]);
    expect(report.resumed.map((p) => p.state)).toEqual(["completed"]);
    expect(sandbox.payments()).toHaveLength(1);
    expectPaidAtMostOnce(sandbox, report.resumed);
  });

  test("recover() adopts an orphan (a payment of ours the store lost) without paying it twice", async () => {
    const sandbox = await testSandbox(fast);
    const lostStore = testPayouts(sandbox);
    const paid = lostStore.pay({ key: "orphan", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" });
    // Pay it on chain, then lose the store before completion.
    await new Promise<void>((resolve) => {
      lostStore.subscribe((event) => {
        if (event.to === "txStored.completing") resolve();
      });
    });
    await lostStore.close({ abandon: true });
    void paid.catch(() => undefined);
    expect(sandbox.ledgerPayments()).toHaveLength(1);

    const fresh = testPayouts(sandbox);
    const report = await fresh.recover({ adoptOrphans: true });
    expect(report.orphans.map((p) => p.metadata?.pi_payments_key)).toEqual(["orphan"]);
    expect(report.resumed).toEqual([
      expect.objectContaining({ key: "orphan", state: "completed" }),
    ]);
    expect(sandbox.ledgerPayments()).toHaveLength(1);
    expectPaidAtMostOnce(sandbox, report.resumed);
  });

  test("subscribers see every step; list and lookups find payouts", async () => {
    const sandbox = await testSandbox(fast);
    const payouts = testPayouts(sandbox);
    const seen: PayoutStep[] = [];
    const stop = payouts.subscribe((event) => seen.push(event));
    const payout = await payouts.pay({
      key: "watched",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    stop();
    expect(seen.map((e) => e.to)).toEqual([
      "created.queued",
      "created.creating",
      "stored.signing",
      "submitted.sending",
      "txStored.completing",
      "completed",
    ]);
    expect((await payouts.getByPaymentId(payout.paymentId!))?.key).toBe("watched");
    expect(await payouts.list({ state: "completed" })).toHaveLength(1);
    expect(await payouts.list({ atRest: false })).toEqual([]);
  });

  test("an aborted wait rejects, but the payout goes on", async () => {
    const sandbox = await testSandbox({
      ...fast,
      faults: [{ route: "POST /v2/payments", kind: "latency", ms: 100 }],
    });
    const payouts = testPayouts(sandbox);
    const controller = new AbortController();
    const waiting = payouts.pay(
      { key: "impatient", uid: sandbox.users[0]!.uid, amount: 1, memo: "m" },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await expect(waiting).rejects.toThrow();
    const [done] = await payouts.resume();
    expect(done?.state).toBe("completed");
  });

  test("no secret reaches the store, the journal, events or errors", async () => {
    const sandbox = await testSandbox({
      ...fast,
      faults: [
        { route: "POST /v2/payments", kind: "error", status: 500, body: "html", times: 1 },
        { route: "POST /transactions", kind: "drop", times: 1 },
      ],
    });
    const path = join(tmpdir(), `pi-payments-secrets-${process.pid}.db`);
    const store = createSqliteStore({ path });
    const payouts = testPayouts(sandbox, { store });
    const events: unknown[] = [];
    payouts.subscribe((event) => events.push(event));
    const payout = await payouts.pay({
      key: "secret-check",
      uid: sandbox.users[0]!.uid,
      amount: 1,
      memo: "m",
    });
    const failed = await payouts.pay({ key: "bad-user", uid: "nobody", amount: 1, memo: "m" });
    expect(failed.state).toBe("failed");
    await payouts.close();
    await store.close();
    const everything = [
      readFileSync(path).toString("latin1"),
      readFileSync(`${path}-wal`, { flag: "a+" }).toString("latin1"),
      JSON.stringify(events),
      JSON.stringify(payout),
      JSON.stringify(failed),
    ].join("\n");
    expect(everything).toContain("secret-check");
    expect(everything).not.toContain(sandbox.apiKey);
    expect(everything).not.toContain(sandbox.walletSeed);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${path}${suffix}`, { force: true });
  });
});

describe("what pay() is asked is what is stored", () => {
  type Made = { store: PayoutStore; cleanup?: () => Promise<void> };
  const stores: Array<[string, () => Promise<Made>]> = [
    ["memory", async () => ({ store: createMemoryStore() })],
    ["SQLite", async () => ({ store: createSqliteStore({ path: ":memory:" }) })],
    [
      // A store that awaits its connection before it writes the intent.
      "PostgreSQL",
      async () => {
        const { testPostgres } = await import("../helpers/postgres.js");
        const { createPostgresStore } = await import("../../src/storage/postgres.js");
        const { pool, schema, cleanup } = await testPostgres();
        return { store: createPostgresStore({ pool, schema }), cleanup };
      },
    ],
  ];
  for (const [name, makeStore] of stores) {
    test(`metadata changed by the caller once pay() has returned reaches neither the intent nor the snapshot (${name})`, async () => {
      const sandbox = await testSandbox(fast);
      const made = await makeStore();
      const payouts = testPayouts(sandbox, { store: made.store });
      const metadata: Record<string, unknown> = { order: 7, lines: [1, 2] };
      const paying = payouts.pay({
        key: `meta-${name}`,
        uid: sandbox.users[0]!.uid,
        amount: 1,
        memo: "m",
        metadata,
      });
      // The caller reuses its object before the payout is stored.
      metadata.order = 8;
      (metadata.lines as number[]).push(3);
      const payout = await paying;
      expect(payout.metadata).toEqual({ order: 7, lines: [1, 2] });
      const stored = await payouts.store.get(`meta-${name}`);
      expect(stored!.intent.metadata).toEqual({ order: 7, lines: [1, 2] });
      expect(stored!.snapshot.context.intent.metadata).toEqual({ order: 7, lines: [1, 2] });
      expect(sandbox.payments()[0]!.metadata).toEqual({
        order: 7,
        lines: [1, 2],
        pi_payments_key: `meta-${name}`,
      });
      await payouts.close();
      await made.cleanup?.();
    });
  }
});
