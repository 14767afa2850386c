import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { DeadLetter, PayoutEvent } from "../../src/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { runCli, sandboxEnv, startCli } from "../helpers/cli.js";
import { testSandbox } from "../helpers/sandbox.js";
import { startReceiver } from "../helpers/webhook-receiver.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-events-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const secret = "cli-webhook-secret-9f8e7d6c5b4a";

function envFor(sandbox: Sandbox, db = join(dir, `events-${n++}.db`)) {
  return {
    ...sandboxEnv(sandbox, db),
    PI_PAYMENTS_WEBHOOK_SECRET: secret,
  };
}

const ndjson = <T>(text: string): T[] =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);

const pay = (key: string, amount: string) => [
  "pay",
  "--key",
  key,
  "--uid",
  "user-1",
  "--amount",
  amount,
  "--memo",
  "m",
  "--json",
];

describe("events, relay, and who cancels or retries on the command line", {
  timeout: 120_000,
}, () => {
  test.each(["events", "relay"])("%s --help explains itself", async (command) => {
    const { code, stdout } = await runCli([command, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Usage: pi-payments ${command}`);
  });

  test("cancel --by alice --reason x is a person's step in events --json; retry defaults to the OS user", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      clock: "simulated",
      walletBalance: "3",
    });
    const env = envFor(sandbox);
    expect((await runCli(pay("ok-1", "1"), env)).code).toBe(0);
    expect((await runCli(pay("big", "50"), env)).code).toBe(3);
    expect((await runCli(["retry", "big"], env)).code).toBe(3);
    const cancelled = await runCli(["cancel", "big", "--by", "alice", "--reason", "x"], env);
    expect(cancelled.code).toBe(4);

    const all = await runCli(["events", "--json"], env);
    expect(all.code).toBe(0);
    const events = ndjson<PayoutEvent>(all.stdout);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "payout.created").map((e) => e.key)).toEqual([
      "ok-1",
      "big",
    ]);
    const cancel = events.find((e) => e.key === "big" && e.step.event === "CANCEL");
    expect(cancel?.actor).toEqual({ type: "person", name: "alice", reason: "x" });
    expect(events.find((e) => e.type === "payout.cancelled")?.key).toBe("big");
    const retried = events.find((e) => e.type === "payout.retried");
    expect(retried?.actor).toEqual({ type: "person", name: userInfo().username, reason: null });
    expect(events.find((e) => e.type === "payout.completed")?.actor.type).toBe("process");

    // One line per event: seq, time, type, key, state, who.
    const human = (await runCli(["events"], env)).stdout.trimEnd().split("\n");
    expect(human).toHaveLength(events.length);
    const line = human[events.indexOf(cancel!)]!;
    expect(line).toMatch(new RegExp(`^\\s*${cancel!.seq}  ${cancel!.at}  payout\\.step\\s+big  `));
    expect(line).toMatch(/ alice \(x\)$/);
    const page = ndjson<PayoutEvent>(
      (await runCli(["events", "--after", "3", "--limit", "2", "--json"], env)).stdout,
    );
    expect(page.map((e) => e.seq)).toEqual([4, 5]);
  });

  test("events --follow prints new events as they are saved, and stops on SIGTERM", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env = envFor(sandbox);
    expect((await runCli(["migrate"], env)).code).toBe(0);
    const follow = startCli(["events", "--follow", "--json", "--poll-ms", "50"], env);
    expect((await runCli(pay("f-1", "1"), env)).code).toBe(0);
    await follow.line("stdout", /"type":"payout\.completed"/);
    follow.child.kill("SIGTERM");
    expect(await follow.exited).toBe(0);
    const seen = ndjson<PayoutEvent>(follow.stdout());
    expect(seen[0]).toMatchObject({ seq: 1, type: "payout.created", key: "f-1" });
  });

  test("relay delivers signed events; what it gives up on is listed by events --dead and redelivered", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env = envFor(sandbox);
    const receiver = await startReceiver(secret);
    // The receiver refuses the first payout's completion: it is dead-lettered.
    receiver.decide = (event) => (event?.type === "payout.completed" ? "fail" : "ok");
    expect((await runCli(pay("r-1", "1"), env)).code).toBe(0);

    const relay = startCli(
      ["relay", "--url", receiver.url, "--max-attempts", "2", "--poll-ms", "20", "--json"],
      env,
    );
    await relay.line("stdout", /dead-lettered after 2 tries \(HTTP 500\)/);
    relay.child.kill("SIGTERM");
    expect(await relay.exited).toBe(0);
    const logs = ndjson<{ message: string }>(relay.stdout());
    expect(logs.at(-1)?.message).toMatch(
      /^stopped: \d+ delivered, 1 dead-lettered, cursor at \d+$/,
    );
    const events = ndjson<PayoutEvent>((await runCli(["events", "--json"], env)).stdout);
    const completed = events.find((e) => e.type === "payout.completed")!;
    for (const event of events) {
      expect(receiver.accepted.has(event.id)).toBe(event !== completed);
    }

    const dead = ndjson<DeadLetter>((await runCli(["events", "--dead", "--json"], env)).stdout);
    expect(dead).toEqual([
      expect.objectContaining({
        consumer: `webhook:${new URL(receiver.url).host}`,
        seq: completed.seq,
        attempts: 2,
        error: "HTTP 500",
      }),
    ]);
    expect((await runCli(["events", "--dead"], env)).stdout).toMatch(
      new RegExp(`^#${dead[0]!.id}  webhook:.*  seq ${completed.seq}  2 tries  .*  HTTP 500\\n$`),
    );

    const refused = await runCli(
      ["events", "redeliver", String(dead[0]!.id), "--url", receiver.url],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /failed: HTTP 500\. The dead letter is kept\. \[WEBHOOK_DELIVERY_FAILED\]/,
    );
    receiver.decide = () => "ok";
    const redelivered = await runCli(
      ["events", "redeliver", String(dead[0]!.id), "--url", receiver.url],
      env,
    );
    expect(redelivered.stdout).toContain(`redelivered dead letter #${dead[0]!.id}`);
    expect(redelivered.code).toBe(0);
    expect(receiver.accepted.has(completed.id)).toBe(true);
    expect((await runCli(["events", "--dead", "--json"], env)).stdout).toBe("");
    const again = await runCli(
      ["events", "redeliver", String(dead[0]!.id), "--url", receiver.url],
      env,
    );
    expect(again.stderr).toContain("[DEAD_LETTER_NOT_FOUND]");
    expect(receiver.badSignatures()).toBe(0);
    for (const output of [relay.stdout(), relay.stderr(), refused.stderr, redelivered.stdout]) {
      expect(output).not.toContain(secret);
    }
  });

  test.each([
    ["unset", "", /PI_PAYMENTS_WEBHOOK_SECRET is not set/],
    ["too short", "short-secret", /PI_PAYMENTS_WEBHOOK_SECRET is shorter than 16 characters/],
  ])(
    "relay refuses a webhook secret %s, naming the variable, not the value",
    async (_what, value, message) => {
      const sandbox = await testSandbox();
      const env = { ...envFor(sandbox), PI_PAYMENTS_WEBHOOK_SECRET: value };
      expect((await runCli(["migrate"], env)).code).toBe(0);
      const run = await runCli(["relay", "--url", "http://127.0.0.1:9/hooks"], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain("[MISSING_WEBHOOK_SECRET]");
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      if (value) expect(run.stderr).not.toContain(value);
      const noUrl = await runCli(["relay"], envFor(sandbox, env.PI_PAYMENTS_DB));
      expect(noUrl.stderr).toContain("[MISSING_WEBHOOK_URL]");
    },
  );
});
