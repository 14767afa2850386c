import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { CliIo } from "../../src/cli/io.js";
import { createProgram } from "../../src/cli/main.js";
import { sandboxEnv } from "../helpers/cli.js";
import { testSandbox } from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-ready-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * An io that notes, for every line, whether the command already listened for Ctrl-C. A script
 * (or a person) that sees "press Ctrl-C" and sends SIGINT at once must stop the process
 * cleanly; a signal that comes before the listeners ends it by default (seen in CI as an exit
 * by signal under load).
 */
function recordingIo() {
  let listening = false;
  let interrupt: (() => void) | undefined;
  const lines: Array<{ text: string; listening: boolean }> = [];
  const wakers: Array<() => void> = [];
  const write = (text: string) => {
    lines.push({ text, listening });
    for (const wake of wakers.splice(0)) wake();
  };
  const io: CliIo = {
    out: write,
    err: write,
    untilInterrupted: () =>
      new Promise<void>((resolve) => {
        listening = true;
        interrupt = resolve;
      }),
    isTTY: false,
  };
  const line = async (pattern: RegExp) => {
    for (;;) {
      const found = lines.find((l) => pattern.test(l.text));
      if (found) return found;
      await new Promise<void>((wake) => wakers.push(wake));
    }
  };
  return { io, line, interrupt: () => interrupt?.() };
}

async function readyLineListens(args: string[], env: NodeJS.ProcessEnv, ready: RegExp) {
  const { io, line, interrupt } = recordingIo();
  const exitCode = process.exitCode;
  const run = createProgram(io, { ...process.env, ...env }).parseAsync([
    "node",
    "pi-payments",
    ...args,
  ]);
  const found = await Promise.race([line(ready), run.then(() => undefined)]);
  expect(found, `no line matched ${ready}`).toBeDefined();
  expect(found!.listening, `"${found!.text}" was written before Ctrl-C was listened for`).toBe(
    true,
  );
  interrupt();
  await run;
  process.exitCode = exitCode;
}

describe("a line that invites Ctrl-C comes after the process listens for it", {
  timeout: 30_000,
}, () => {
  test("sandbox", async () => {
    await readyLineListens(["sandbox", "--port", "0"], {}, /Ctrl-C to stop/);
  });

  test("worker", async () => {
    const sandbox = await testSandbox();
    const env = sandboxEnv(sandbox, join(dir, "worker.db"));
    await readyLineListens(["worker"], env, /^worker /);
  });

  test("relay", async () => {
    const sandbox = await testSandbox();
    const env = {
      ...sandboxEnv(sandbox, join(dir, "relay.db")),
      PI_PAYMENTS_WEBHOOK_URL: "http://127.0.0.1:9/hook",
      PI_PAYMENTS_WEBHOOK_SECRET: "a-secret-of-sixteen-or-more",
    };
    await createProgram(recordingIo().io, { ...process.env, ...env }).parseAsync([
      "node",
      "pi-payments",
      "migrate",
    ]);
    await readyLineListens(["relay"], env, /^relay /);
  });

  test("pay --inspect", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const env = { ...sandboxEnv(sandbox, join(dir, "pay.db")), PI_PAYMENTS_INSPECT_PORT: "0" };
    await readyLineListens(
      ["pay", "--key", "k", "--uid", "user-1", "--amount", "1", "--memo", "m", "--inspect"],
      env,
      /^Inspector still serving/,
    );
  });
});
