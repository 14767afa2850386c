import fc from "fast-check";
import { expect } from "vitest";
import { createPiChain, createPiPlatform } from "../../src/adapters/index.js";
import type { PiChain, PiPlatform } from "../../src/adapters/types.js";
import { createPayouts, type Payout, type Payouts, type Probe } from "../../src/index.js";
import type { PayoutEffects } from "../../src/machines/payout-effects.js";
import type { FaultRule, Sandbox } from "../../src/sandbox/index.js";
import { startSandbox } from "../../src/sandbox/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createPostgresStore } from "../../src/storage/postgres.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import type { PayoutStore } from "../../src/storage/types.js";
import { testPostgres } from "../helpers/postgres.js";

/** The stores the property runs on: each outlives the runtimes that crash on it. */
export type PropertyStore = "memory" | "sqlite" | "postgres";

/**
 * The system under property test: the HTTP sandbox, one store that outlives crashes, and
 * the current runtime. A crash drops the runtime at an await point, with no cleanup, and
 * starts a new one on the same store, as a restarted process would.
 */
export interface System {
  sandbox: Sandbox;
  store: PayoutStore;
  runtime: Payouts;
  /** The current runtime's chain adapter (a process has one; a restart makes a new one). */
  chain: PiChain;
  crash: CrashSwitch;
  incompleteLimit: "app" | "user";
  mutant: Partial<PayoutEffects> | undefined;
  keys: Set<string>;
  crashes: number;
  /** Crashes that struck at an await point (the others hit an idle runtime). */
  crashesInFlight: number;
  /** Late creates of ended payouts that recover() cancelled at the end. */
  strays: number;
  /** Drops what the store needs (a PostgreSQL schema). */
  cleanup: () => Promise<void>;
  /** Resolves once no call of a (crashed) runtime into the store is still in flight. */
  storeIdle: () => Promise<void>;
  /** Counts calls into Pi's API across every runtime, crashed ones included. */
  piCalls: CallCounter;
}

/**
 * The store with its calls counted: a crashed runtime's call in flight (an insert, say) can
 * still commit on a real database after the restart, as a killed process's last statement
 * does; the final checks wait for it, as they wait for the sandbox's requests.
 */
function counted(store: PayoutStore): { store: PayoutStore; idle: () => Promise<void> } {
  const counter = new CallCounter();
  return { store: counter.wrap(store), idle: () => counter.idle() };
}

/**
 * Calls in flight through the objects it wrapped. A call of a crashed runtime's Pi client is
 * one too while it waits out a retry's backoff (no request is on the wire then, so the
 * sandbox's own count cannot see it) or goes from a look at Pi's list to the create it leads to.
 */
export class CallCounter {
  private inFlight = 0;
  wrap<T extends object>(target: T): T {
    return Object.fromEntries(
      Object.entries(target).map(([name, value]) => [
        name,
        typeof value === "function"
          ? async (...args: unknown[]) => {
              this.inFlight += 1;
              try {
                return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
              } finally {
                this.inFlight -= 1;
              }
            }
          : value,
      ]),
    ) as unknown as T;
  }
  async idle(): Promise<void> {
    while (this.inFlight > 0) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Stops a runtime at its N-th await point from now: every runner throws there, like a killed process. */
export class CrashSwitch {
  count = 0;
  armedAt: number | undefined;
  crashed = false;
  private onCrash: (() => void) | undefined;

  /** Where the crash struck, e.g. `effect:end submitTransaction`. */
  struckAt: string | undefined;

  readonly probe: Probe = (point) => {
    this.count += 1;
    if (this.crashed) throw new Error("crashed");
    const site = `${point.point} ${"effect" in point ? point.effect : point.event}`;
    const onTarget = this.target === undefined || site.startsWith(this.target);
    if (this.armedAt !== undefined && this.count >= this.armedAt && onTarget) {
      this.crashed = true;
      this.struckAt = site;
      this.onCrash?.();
      throw new Error("crash");
    }
  };

  /** Crash only at a point matching this, e.g. `effect:end submitTransaction`. */
  target: string | undefined;

  /** Resolves once the crash happened, at the `after`-th await point (of `target`) or after `maxWaitMs`. */
  arm(after: number, maxWaitMs: number, target?: string): Promise<void> {
    this.armedAt = this.count + after;
    this.target = target;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.crashed = true;
        resolve();
      }, maxWaitMs);
      this.onCrash = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

const users = 4;

const chainFor = (sandbox: Sandbox) =>
  createPiChain({
    network: sandbox.network,
    walletSeed: sandbox.walletSeed,
    horizonUrl: sandbox.horizonUrl,
    timeBoundSeconds: 30,
  });

function runtimeFor(system: Omit<System, "runtime" | "crash">, crash: CrashSwitch): Payouts {
  const { sandbox, chain } = system;
  return createPayouts({
    chain,
    // A platform per runtime (a restarted process makes a new one), its calls counted.
    platform: system.piCalls.wrap<PiPlatform>(
      createPiPlatform({ apiKey: sandbox.apiKey, baseUrl: sandbox.apiUrl }),
    ),
    apiKey: sandbox.apiKey,
    walletSeed: sandbox.walletSeed,
    network: sandbox.network,
    apiUrl: sandbox.apiUrl,
    horizonUrl: sandbox.horizonUrl,
    store: system.store,
    incompleteLimit: system.incompleteLimit,
    // A restarted instance keeps its name, so it takes its own leases back at once.
    owner: "instance",
    backoff: { baseDelayMs: 1, maxDelayMs: 8 },
    slotPollMs: 2,
    pollMs: 2,
    leaseMs: 500,
    createGraceMs: 40,
    probe: crash.probe,
    ...(system.mutant ? { effects: system.mutant } : {}),
  });
}

/** The arguments of a payout by key number: a key always means the same payout. */
function argsOf(keyIndex: number) {
  return {
    key: `key-${keyIndex}`,
    uid: `user-${(keyIndex % users) + 1}`,
    amount: `${1 + (keyIndex % 3)}.${keyIndex}`,
    memo: `payout ${keyIndex}`,
    metadata: { keyIndex },
  };
}

export async function startSystem(options: {
  seed: number;
  incompleteLimit: "app" | "user";
  sandboxLimit: "app" | "user";
  linkLagMs: number | "never";
  mutant?: (system: () => System) => Partial<PayoutEffects>;
  /** The store that outlives crashes. @default memory */
  store?: PropertyStore;
}): Promise<System> {
  const sandbox = await startSandbox({
    seed: options.seed,
    users,
    ledgerIntervalMs: "manual",
    clock: "simulated",
    incompleteLimit: options.sandboxLimit,
    linkLagMs: options.linkLagMs,
    submitTimeoutMs: 200,
    requestLogLimit: 0,
  });
  const made = await storeFor(options.store ?? "memory");
  const { store, idle } = counted(made.store);
  const cleanup = made.cleanup;
  const base = {
    sandbox,
    store,
    storeIdle: idle,
    piCalls: new CallCounter(),
    cleanup,
    incompleteLimit: options.incompleteLimit,
    mutant: undefined as Partial<PayoutEffects> | undefined,
    keys: new Set<string>(),
    crashes: 0,
    crashesInFlight: 0,
    strays: 0,
  };
  const crash = new CrashSwitch();
  const system = {
    ...base,
    chain: chainFor(sandbox),
    crash,
    runtime: undefined as unknown as Payouts,
  } as System;
  if (options.mutant) system.mutant = options.mutant(() => system);
  system.runtime = runtimeFor(system, crash);
  return system;
}

/** Restarts the runtime on the same store: what a supervisor does after a crash. */
async function restart(system: System): Promise<void> {
  await system.runtime.close({ abandon: true });
  system.crash = new CrashSwitch();
  system.chain = chainFor(system.sandbox);
  system.runtime = runtimeFor(system, system.crash);
  void system.runtime.resume({ wait: false }).catch(() => undefined);
}

/** A fresh store of a kind; PostgreSQL gets a schema of its own (the real server in CI, else PGlite). */
async function storeFor(
  kind: PropertyStore,
): Promise<{ store: PayoutStore; cleanup: () => Promise<void> }> {
  if (kind === "sqlite")
    return {
      store: createSqliteStore({ path: ":memory:" }),
      cleanup: async () => {},
    };
  if (kind === "postgres") {
    const { pool, schema, cleanup } = await testPostgres();
    return { store: createPostgresStore({ pool, schema }), cleanup };
  }
  return { store: createMemoryStore(), cleanup: async () => {} };
}

type Command = fc.AsyncCommand<object, System>;

/** Where crashes struck across all runs of this process, for the report. */
export const crashSites = new Map<string, number>();

class Pay implements Command {
  constructor(readonly keyIndex: number) {}
  check = () => true;
  async run(_model: object, system: System) {
    system.keys.add(argsOf(this.keyIndex).key);
    void system.runtime.pay(argsOf(this.keyIndex)).catch(() => undefined);
  }
  toString = () => `pay(${this.keyIndex})`;
}

class Cancel implements Command {
  constructor(readonly keyIndex: number) {}
  check = () => true;
  async run(_model: object, system: System) {
    void system.runtime.cancel(argsOf(this.keyIndex).key).catch(() => undefined);
  }
  toString = () => `cancel(${this.keyIndex})`;
}

class Crash implements Command {
  constructor(readonly after: number) {}
  check = () => true;
  async run(_model: object, system: System) {
    await system.crash.arm(this.after, 30);
    system.crashes += 1;
    if (system.crash.struckAt) {
      system.crashesInFlight += 1;
      crashSites.set(system.crash.struckAt, (crashSites.get(system.crash.struckAt) ?? 0) + 1);
    }
    await restart(system);
  }
  toString = () => `crash(at await point +${this.after})`;
}

/** A crash aimed at a critical point: right after an effect's result, before it is saved, and so on. */
class CrashAt implements Command {
  constructor(readonly target: string) {}
  check = () => true;
  async run(_model: object, system: System) {
    await system.crash.arm(0, 80, this.target);
    system.crashes += 1;
    if (system.crash.struckAt) {
      system.crashesInFlight += 1;
      crashSites.set(system.crash.struckAt, (crashSites.get(system.crash.struckAt) ?? 0) + 1);
    }
    await restart(system);
  }
  toString = () => `crashAt(${this.target})`;
}

class Fault implements Command {
  constructor(readonly rule: FaultRule) {}
  check = () => true;
  async run(_model: object, system: System) {
    system.sandbox.addFaults([this.rule]);
  }
  toString = () =>
    `fault(${this.rule.route} ${this.rule.kind}${this.rule.status ? ` ${this.rule.status}` : ""}${this.rule.when ? ` ${this.rule.when}` : ""}${this.rule.ledgers ? ` ${this.rule.ledgers} ledgers` : ""}${this.rule.shape ? ` ${this.rule.shape}` : ""} x${this.rule.times})`;
}

class CloseLedgers implements Command {
  constructor(readonly count: number) {}
  check = () => true;
  async run(_model: object, system: System) {
    for (let i = 0; i < this.count; i++) await system.sandbox.closeLedger();
  }
  toString = () => `closeLedgers(${this.count})`;
}

class Wait implements Command {
  constructor(readonly ms: number) {}
  check = () => true;
  async run() {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
  }
  toString = () => `wait(${this.ms}ms)`;
}

const faultRules = fc.constantFrom<FaultRule>(
  { route: "POST /v2/payments", kind: "error", status: 503 },
  { route: "POST /v2/payments", kind: "error", status: 500, when: "after" },
  { route: "POST /v2/payments", kind: "drop" },
  {
    route: "GET /v2/payments/incomplete_server_payments",
    kind: "error",
    status: 502,
    body: "html",
  },
  { route: "POST /transactions", kind: "error", status: 502, body: "html" },
  { route: "POST /transactions", kind: "error", status: 504, when: "after" },
  { route: "POST /transactions", kind: "drop" },
  {
    route: "POST /transactions",
    kind: "error",
    status: 400,
    resultCodes: { transaction: "tx_bad_seq" },
    when: "after",
  },
  { route: "GET /transactions/*", kind: "error", status: 503 },
  { route: "GET /accounts/*", kind: "error", status: 503 },
  { route: "GET /ledgers", kind: "error", status: 500 },
  { route: "POST /v2/payments/*/complete", kind: "error", status: 503 },
  { route: "POST /v2/payments/*/complete", kind: "error", status: 500, when: "after" },
  { route: "POST /v2/payments/*/complete", kind: "drop" },
  { route: "POST /v2/payments/*/cancel", kind: "drop" },
  { route: "GET /v2/payments/*", kind: "error", status: 503 },
  // Horizon instances a ledger or more behind: every read a decision rests on may lag.
  { route: "GET /transactions/*", kind: "lag", ledgers: 1 },
  { route: "GET /transactions/*", kind: "lag", ledgers: 3 },
  { route: "GET /accounts/*/transactions", kind: "lag", ledgers: 1 },
  { route: "GET /accounts/*/transactions", kind: "lag", ledgers: 2 },
  { route: "GET /accounts/*", kind: "lag", ledgers: 1 },
  { route: "GET /ledgers", kind: "lag", ledgers: 2 },
  // Answers that do not parse, on writes (applied all the same) and on reads.
  { route: "POST /v2/payments", kind: "garble" },
  { route: "POST /v2/payments", kind: "tamper", payment: { amount: "1" } },
  { route: "POST /v2/payments/*/complete", kind: "garble", shape: "truncated" },
  { route: "POST /v2/payments/*/cancel", kind: "garble", shape: "empty" },
  { route: "GET /v2/payments/incomplete_server_payments", kind: "garble" },
  { route: "POST /transactions", kind: "garble", shape: "empty" },
  { route: "POST /transactions", kind: "garble", shape: "html" },
  { route: "GET /transactions/*", kind: "garble" },
  { route: "GET /accounts/*", kind: "garble", shape: "truncated" },
);

/** The commands a run is made of. */
export const commands = fc.commands(
  [
    fc.integer({ min: 0, max: 5 }).map((k) => new Pay(k)),
    fc.integer({ min: 0, max: 5 }).map((k) => new Pay(k)),
    fc.integer({ min: 0, max: 5 }).map((k) => new Pay(k)),
    fc.integer({ min: 0, max: 5 }).map((k) => new Cancel(k)),
    fc.integer({ min: 0, max: 25 }).map((n) => new Crash(n)),
    fc
      .constantFrom(
        "effect:end createPiPayment",
        "effect:start submitTransaction",
        "effect:end submitTransaction",
        "effect:end buildTransaction",
        "save:end buildTransaction.done",
        "effect:start completePiPayment",
        "effect:end completePiPayment",
        "effect:end checkFate",
        "effect:end cancelPiPayment",
        "save:start",
      )
      .map((target) => new CrashAt(target)),
    fc
      .tuple(faultRules, fc.integer({ min: 1, max: 3 }))
      .map(([rule, times]) => new Fault({ ...rule, times })),
    fc.integer({ min: 1, max: 3 }).map((n) => new CloseLedgers(n)),
    fc.integer({ min: 1, max: 15 }).map((ms) => new Wait(ms)),
  ],
  { size: "small", maxCommands: 14 },
);

/** The settings a run starts from. */
export const settings = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  incompleteLimit: fc.constantFrom<"app" | "user">("app", "user"),
  // Sometimes Pi's rule is wider than configured: payouts must then wait, not fail.
  sandboxMatches: fc.boolean(),
  linkLagMs: fc.constantFrom<number | "never">(0, 15, "never"),
  // Ledgers closing by themselves let payouts reach submit and complete between commands.
  autoLedgers: fc.boolean(),
});

/** Resolves once the sandbox has answered every request it got, for a few polls in a row. */
async function untilIdle(sandbox: Sandbox): Promise<void> {
  for (let quiet = 0; quiet < 3; ) {
    quiet = sandbox.inFlight() === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * After the commands: no more faults, ledgers closing, one last restart, and every payout
 * driven until it settles. Resolves with them, or rejects if one does not settle in time.
 */
export async function drain(system: System, deadlineMs = 20_000): Promise<Payout[]> {
  const { sandbox } = system;
  sandbox.clearFaults();
  const closer = setInterval(() => sandbox.chain.closeLedger(), 3);
  try {
    await restart(system);
    await system.storeIdle();
    const settled = system.runtime.resume();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => {
        const stuck = await system.store.list({ atRest: false });
        const lines = await Promise.all(
          stuck.map(async (p) => {
            const journal = await system.store.journal(p.key);
            const slot = await system.store.slotHolder(p.snapshot.context.slotScope);
            return `${p.key} in ${p.stateDetail} (slot held by ${slot}): ${journal.map((j) => `${j.event}${j.details.code ? `[${j.details.code}]` : ""}`).join(" > ")}`;
          }),
        );
        // A payout stuck behind one that was paid twice says less than the double pay.
        const paid = new Map<string, number>();
        for (const p of sandbox.ledgerPayments())
          paid.set(p.memo ?? "", (paid.get(p.memo ?? "") ?? 0) + 1);
        const twice = [...paid].filter(([, n]) => n > 1).map(([memo, n]) => `${memo} ${n}`);
        const first = twice.length ? `applied payments twice for: ${twice.join(", ")}; ` : "";
        reject(
          new Error(`${first}payouts did not settle within ${deadlineMs} ms:\n${lines.join("\n")}`),
        );
      }, deadlineMs);
    });
    // A create a crashed runtime left in flight can commit after resume() listed the
    // unfinished payouts (a real database answers late): resume again, as an operator would,
    // until nothing is left unfinished.
    const untilNoneUnfinished = (async () => {
      await settled;
      for (let round = 0; round < 5; round++) {
        if ((await system.store.list({ atRest: false, limit: 1 })).length === 0) return;
        await system.runtime.resume();
      }
    })();
    await Promise.race([untilNoneUnfinished, timeout]).finally(() => clearTimeout(timer));
    // A create that a crashed runtime left in flight can reach Pi after its payout ended
    // (a stray). Let every request have its effect, then reconcile as an operator does
    // after a crash: recover() cancels strays (and a blocked create cancels them anyway).
    // A crashed runtime's Pi client may still be waiting out a retry's backoff, with
    // nothing on the wire: wait for its calls too (they are where late creates come from).
    await system.piCalls.idle();
    await untilIdle(sandbox);
    await system.storeIdle();
    system.strays += (await system.runtime.recover()).cancelledStrays.length;
    // Every key paid was taken in (pay() stores before it awaits anything of a runner).
    return Promise.all(
      [...system.keys].map(async (key) => {
        const payout = await system.runtime.get(key);
        expect(payout, `payout ${key} in the store`).toBeDefined();
        return payout!;
      }),
    );
  } finally {
    clearInterval(closer);
  }
}

/** The safety invariants, checked against the sandbox's own records. */
export async function checkInvariants(system: System, payouts: Payout[]): Promise<void> {
  const { sandbox } = system;
  const pi = sandbox.payments();
  const keyOf = new Map(
    pi.map((p) => [p.identifier, p.metadata?.pi_payments_key as string | undefined]),
  );

  // At most one applied payment per Pi payment and per payout key.
  const perPayment = new Map<string, number>();
  const perKey = new Map<string, number>();
  for (const paid of sandbox.ledgerPayments()) {
    perPayment.set(paid.memo ?? "", (perPayment.get(paid.memo ?? "") ?? 0) + 1);
    const key = keyOf.get(paid.memo ?? "");
    if (key) perKey.set(key, (perKey.get(key) ?? 0) + 1);
  }
  for (const [memo, n] of perPayment)
    expect(n, `applied payments for Pi payment ${memo}`).toBeLessThanOrEqual(1);
  for (const [key, n] of perKey)
    expect(n, `applied payments for payout ${key}`).toBeLessThanOrEqual(1);

  for (const payout of payouts) {
    // Every payout ends completed, cancelled, or failed with a reason.
    expect(payout.atRest, `${payout.key} settled (is ${payout.stateDetail})`).toBe(true);
    if (payout.state === "failed")
      expect(payout.failure?.code, `${payout.key} failure reason`).toMatch(/^[A-Z_]+$/);
    const mine = pi.filter((p) => p.metadata?.pi_payments_key === payout.key);
    expect(
      mine.filter((p) => !p.status.cancelled).length,
      `live Pi payments of ${payout.key}`,
    ).toBeLessThanOrEqual(1);
    const paid = sandbox.ledgerPayments().filter((p) => keyOf.get(p.memo ?? "") === payout.key);
    if (payout.state === "completed") {
      expect(
        paid.map((p) => p.txid),
        `${payout.key} paid in its txid`,
      ).toEqual([payout.txid]);
      expect(paid[0]).toMatchObject({ amount: payout.amount, to: payout.toAddress });
      const payment = pi.find((p) => p.identifier === payout.paymentId);
      expect(payment?.status.developer_completed).toBe(true);
      expect(payment?.transaction?.txid).toBe(payout.txid);
    }
    if (payout.state === "cancelled") expect(paid, `${payout.key} cancelled yet paid`).toEqual([]);

    // The journal agrees with the final snapshot.
    const journal = await system.runtime.journal(payout.key);
    expect(journal.at(-1)?.to).toBe(payout.stateDetail);
    expect(journal.map((j) => j.version)).toEqual(journal.map((_, i) => i + 1));
    for (let i = 1; i < journal.length; i++) expect(journal[i]!.from).toBe(journal[i - 1]!.to);
  }

  // No incomplete Pi payment the library does not know of, nor one it left open without a reason.
  // Read from the same snapshot as keyOf: a payment created since has no key there.
  const incomplete = pi.filter(
    (p) =>
      p.direction === "app_to_user" &&
      !p.status.developer_completed &&
      !p.status.cancelled &&
      !p.status.user_cancelled,
  );
  expect(
    incomplete.map((p) => p.identifier),
    "the sandbox's incomplete list agrees with its payments",
  ).toEqual(sandbox.platform.incompleteServerPayments().map((p) => p.identifier));
  for (const payment of incomplete) {
    const key = keyOf.get(payment.identifier);
    const owner = payouts.find((p) => p.key === key);
    expect(
      owner,
      `incomplete Pi payment ${payment.identifier} (key ${String(key)}) belongs to a payout`,
    ).toBeDefined();
    expect(owner?.state, `payout ${key} holding an open Pi payment`).toBe("failed");
    expect(owner?.failure?.paymentOpen).toBe(true);
  }

  // A failed payout keeps its Pi payment open only when a transaction of it landed (the
  // user is paid; a person reconciles): otherwise it was released.
  for (const payout of payouts.filter((p) => p.state === "failed" && p.failure?.paymentOpen)) {
    const linked = pi.find((p) => p.identifier === payout.paymentId)?.transaction;
    const landed = sandbox.ledgerPayments().some((p) => p.memo === payout.paymentId);
    expect(
      linked !== null || landed,
      `${payout.key} (${payout.failure?.code}) keeps an open payment no transaction of it paid`,
    ).toBe(true);
  }

  // The slot cannot leak: whoever holds one at the end legitimately keeps Pi's slot.
  const stored = await Promise.all(payouts.map((p) => system.store.get(p.key)));
  for (const scope of new Set(stored.map((p) => p!.snapshot.context.slotScope))) {
    const holder = await system.store.slotHolder(scope);
    if (holder === undefined) continue;
    const held = payouts.find((p) => p.key === holder);
    expect(
      held?.state === "failed" && held.failure?.paymentOpen,
      `slot ${scope} held by ${holder} (${held?.stateDetail})`,
    ).toBe(true);
  }
}

/** Closes a ledger every few ms while commands run (the `autoLedgers` setting). */
export function closeLedgersEvery(system: System, ms: number): () => void {
  const timer = setInterval(() => system.sandbox.chain.closeLedger(), ms);
  return () => clearInterval(timer);
}

export async function stopSystem(system: System): Promise<void> {
  await system.runtime.close({ abandon: true });
  await system.sandbox.close();
  await system.store.close();
  await system.cleanup();
}
