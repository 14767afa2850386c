import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import type { Payout } from "../../src/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { createPostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";
import type { PayoutStore } from "../../src/storage/types.js";
import { expectPaidAtMostOnce, testPayouts } from "../helpers/payouts.js";
import { realPostgresUrl, testPostgres } from "../helpers/postgres.js";
import { testSandbox } from "../helpers/sandbox.js";

const consumerScript = fileURLToPath(new URL("../fixtures/event-consumer.mjs", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pi-payments-feed-crash-"));
afterAll(() => {
  if (!process.env.KEEP_LOG) rmSync(dir, { recursive: true, force: true });
});

/** A seeded generator, so that a failing schedule of kills can be replayed. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Consumer processes under one name, SIGKILLed (once running) and replaced at random moments. */
function consumerFleet(sandbox: Sandbox, args: string[], log: string) {
  const live = new Set<ChildProcess>();
  const exits: Promise<void>[] = [];
  const start = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = spawn(process.execPath, [consumerScript, ...args], {
        cwd: root,
        env: { ...process.env, SANDBOX_INFO: JSON.stringify(sandbox.info()) },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (chunk) => {
        stderr += chunk;
      });
      exits.push(
        new Promise((done) =>
          child.on("exit", (code, signal) => {
            live.delete(child);
            if (signal !== "SIGKILL") reject(new Error(`consumer exited ${code}: ${stderr}`));
            // Killed while starting: a crash too.
            resolve(child);
            done();
          }),
        ),
      );
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line === "READY") {
          live.add(child);
          resolve(child);
        }
      });
    });
  /** Kills one with SIGKILL and notes its death in the log once the process is gone. */
  const kill = async (child: ChildProcess) => {
    const gone = new Promise((done) => child.once("exit", done));
    child.kill("SIGKILL");
    await gone;
    appendFileSync(log, `${child.pid} dead\n`);
  };
  return { live, start, kill, exits };
}

interface Line {
  pid: string;
  kind: "start" | "end" | "abort" | "dead";
  seq: number;
}

/** The log's whole lines (one being appended right now is left for the next read). */
const parseLog = (log: string): Line[] =>
  readFileSync(log, "utf8")
    .split("\n")
    .slice(0, -1)
    .map((line) => {
      const [pid, kind, seq] = line.split(" ");
      return { pid: pid!, kind: kind as Line["kind"], seq: Number(seq ?? 0) };
    });

/**
 * What the log must show: every event handled; each process handles in feed order; no two
 * processes have a handler in flight at once (a holder hands over only once it is dead, or
 * has aborted its handler because it could no longer trust its lease); an event is handled
 * twice only when its first handler died or gave up before acknowledging it; and a new holder
 * starts no later than right after the last event handled (nothing skipped).
 */
function checkLog(lines: Line[], positions: number[]): { takeovers: number; duplicates: number } {
  const dead = new Set<string>();
  const inFlight = new Map<string, number>();
  const gaveUp = new Set<string>();
  const lastStart = new Map<string, number>();
  const handledBy = new Map<number, string[]>();
  let holder: string | undefined;
  let highestEnded = 0;
  let takeovers = 0;
  let duplicates = 0;
  for (const line of lines) {
    if (line.kind === "dead") {
      dead.add(line.pid);
      inFlight.delete(line.pid);
      continue;
    }
    if (line.kind === "abort") {
      inFlight.delete(line.pid);
      gaveUp.add(line.pid);
      // It starts again from the stored cursor when it claims the name back.
      lastStart.delete(line.pid);
      continue;
    }
    if (line.kind === "start") {
      expect(dead.has(line.pid), `a dead process ${line.pid} handled`).toBe(false);
      for (const [other, seq] of inFlight) {
        expect(other, `${line.pid} handled while ${other} was still handling ${seq}`).toBe(
          line.pid,
        );
      }
      inFlight.set(line.pid, line.seq);
      if (holder !== line.pid) {
        if (holder !== undefined) takeovers += 1;
        holder = line.pid;
        expect(line.seq, "a new holder skipped events").toBeLessThanOrEqual(highestEnded + 1);
      } else {
        expect(line.seq, `process ${line.pid} went back in the feed`).toBeGreaterThan(
          lastStart.get(line.pid) ?? 0,
        );
      }
      lastStart.set(line.pid, line.seq);
      continue;
    }
    inFlight.delete(line.pid);
    const before = handledBy.get(line.seq) ?? [];
    if (before.length > 0) {
      duplicates += 1;
      // The first handler of this event must have died or given up before acknowledging it.
      for (const pid of before) {
        expect(dead.has(pid) || gaveUp.has(pid), `${line.seq} redelivered`).toBe(true);
      }
    }
    handledBy.set(line.seq, [...before, line.pid]);
    highestEnded = Math.max(highestEnded, line.seq);
  }
  for (const seq of positions) expect(handledBy.has(seq), `event ${seq} lost`).toBe(true);
  return { takeovers, duplicates };
}

async function payWhileConsumersDie(
  makeStore: () => PayoutStore,
  consumerArgs: (log: string) => string[],
  seed: number,
) {
  const sandbox = await testSandbox({ ledgerIntervalMs: 20, clock: "simulated" });
  const log = join(dir, `log-${seed}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, "");
  const fleet = consumerFleet(sandbox, consumerArgs(log), log);
  const next = random(seed);
  await Promise.all([fleet.start(), fleet.start(), fleet.start()]);

  // Two workers pay at once, and a person cancels some.
  const a = testPayouts(sandbox, { store: makeStore(), owner: "worker-a" });
  const b = testPayouts(sandbox, { store: makeStore(), owner: "worker-b" });
  const paying: Promise<Payout>[] = [];
  for (let i = 0; i < 24; i++) {
    const runtime = i % 2 === 0 ? a : b;
    const args = { key: `p${i}`, uid: sandbox.users[i % 3]!.uid, amount: "1", memo: "m" };
    if (i % 6 === 5) {
      paying.push(
        runtime.enqueue(args).then(() => runtime.cancel(args.key, { by: "ops", reason: "test" })),
      );
    } else paying.push(runtime.pay(args));
  }
  let paid = false;
  const all = Promise.all(paying).finally(() => {
    paid = true;
  });

  // Kill a consumer at random moments while the fleet pays, and after it, while a person
  // cancels queued payouts, until the holder has been killed under load a few times.
  let kills = 0;
  let extra = 0;
  const starting: Promise<ChildProcess>[] = [];
  const deadline = Date.now() + 40_000;
  const enough = () => kills >= 8 && checkLog(parseLog(log), []).takeovers >= 3;
  while (!paid || (!enough() && Date.now() < deadline)) {
    await new Promise((resolve) => setTimeout(resolve, 250 + next() * 500));
    if (paid) {
      const key = `extra-${extra++}`;
      await a.enqueue({ key, uid: sandbox.users[0]!.uid, amount: "1", memo: "m" });
      await b.cancel(key, { by: "ops" });
    }
    // Mostly the holder (the last to have handled), sometimes one standing by.
    const victims = [...fleet.live];
    const holder = parseLog(log).findLast((l) => l.kind === "start")?.pid;
    const victim =
      next() < 0.7
        ? (victims.find((c) => String(c.pid) === holder) ?? victims[0])
        : victims[Math.floor(next() * victims.length)];
    if (victim) {
      await fleet.kill(victim);
      kills += 1;
      // The replacement starts while the next victim is chosen among those running.
      starting.push(fleet.start());
    }
  }
  const payouts = await all;
  await Promise.all(starting);
  const positions = (await a.events.read({ limit: 10_000 })).map((e) => e.seq);
  // The survivors drain the feed.
  const last = positions.at(-1)!;
  for (let i = 0; i < 1000; i++) {
    const ended = parseLog(log).some((l) => l.kind === "end" && l.seq === last);
    if (ended) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const child of [...fleet.live]) await fleet.kill(child);
  await Promise.all(fleet.exits);

  expectPaidAtMostOnce(sandbox, payouts);
  const figures = checkLog(parseLog(log), positions);
  expect(kills).toBeGreaterThanOrEqual(8);
  expect(figures.takeovers).toBeGreaterThanOrEqual(3);
  return { ...figures, kills, events: positions.length };
}

describe("a durable consumer SIGKILLed at random while a fleet pays", () => {
  test("on SQLite: every event handled, in order, never by two holders at once", async () => {
    const path = join(dir, "feed.db");
    const figures = await payWhileConsumersDie(
      () => createSqliteStore({ path }),
      (log) => ["sqlite", path, "", log, "shop"],
      7,
    );
    expect(figures.events).toBeGreaterThan(100);
  }, 120_000);

  test.skipIf(!realPostgresUrl)(
    "on PostgreSQL: every event handled, in order, never by two holders at once",
    async () => {
      const { pool, schema, cleanup } = await testPostgres();
      try {
        const figures = await payWhileConsumersDie(
          () => createPostgresStore({ pool, schema }),
          (log) => ["postgres", realPostgresUrl!, schema, log, "shop"],
          11,
        );
        expect(figures.events).toBeGreaterThan(100);
      } finally {
        await cleanup();
      }
    },
    120_000,
  );
});
