import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";
import { runCli, sandboxEnv, startCli } from "../helpers/cli.js";
import { canConnect } from "../helpers/net.js";
import { testSandbox } from "../helpers/sandbox.js";

const dir = mkdtempSync(join(tmpdir(), "pi-payments-inspect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function envFor(sandbox: Sandbox) {
  return {
    ...sandboxEnv(sandbox, join(dir, `inspect-${n++}.db`)),
    PI_PAYMENTS_INSPECT_PORT: "0",
  };
}

const pay = ["pay", "--key", "watched", "--uid", "user-1", "--amount", "1", "--memo", "m"];

describe("--inspect on the command line", { timeout: 60_000 }, () => {
  test("serves the inspector on loopback only, and says the page needs internet", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10, clock: "simulated" });
    const running = startCli([...pay, "--inspect", "--json"], envFor(sandbox));
    const line = await running.line("stderr", /^Inspector: open /);
    expect(line).toMatch(
      /^Inspector: open http:\/\/127\.0\.0\.1:\d+ in a browser .*stately\.ai: the browser needs internet access\)\.$/,
    );
    const url = new URL(/http:\/\/\S+/.exec(line)![0]);
    expect(await (await fetch(url)).text()).toContain("https://stately.ai/inspect");
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && !a.internal && a.family === "IPv4");
    for (const other of others)
      expect(await canConnect(other!.address, Number(url.port))).toBe(false);

    await running.line("stderr", /^Inspector still serving/);
    expect(JSON.parse(running.stdout()).state).toBe("completed");
    running.child.kill("SIGINT");
    expect(await running.exited).toBe(0);
  });

  test("a port in use is one line and exit 1, not a crash or a hang", async () => {
    const sandbox = await testSandbox();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    try {
      const run = await runCli([...pay, "--inspect"], {
        ...envFor(sandbox),
        PI_PAYMENTS_INSPECT_PORT: String(port),
      });
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toContain(`127.0.0.1:${port}: EADDRINUSE`);
      expect(sandbox.requests()).toEqual([]);
    } finally {
      taken.close();
    }
  });
});
