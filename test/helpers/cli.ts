import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.js";

/** The built command line, as users run it (`npm test` builds it first). */
export const cliPath = fileURLToPath(new URL("../../bin/pi-payments.js", import.meta.url));

/** The environment that points the command line at a sandbox and a store, as a user sets it. */
export function sandboxEnv(
  sandbox: Pick<Sandbox, "apiKey" | "walletSeed" | "network" | "apiUrl" | "horizonUrl">,
  db: string,
) {
  return {
    PI_API_KEY: sandbox.apiKey,
    PI_WALLET_SEED: sandbox.walletSeed,
    PI_NETWORK: sandbox.network,
    PI_API_URL: sandbox.apiUrl,
    PI_HORIZON_URL: sandbox.horizonUrl,
    PI_PAYMENTS_DB: db,
  };
}

const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
});

/** Starts `pi-payments <args>` and resolves with its first stdout line, parsed as JSON. */
export async function startCliJson<T>(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; first: T }> {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once("line", resolve);
    child.once("exit", (code) =>
      reject(new Error(`pi-payments ${args.join(" ")} exited with ${code}`)),
    );
  });
  return { child, first: JSON.parse(first) as T };
}

/** Runs `pi-payments <args>` to the end. */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A running `pi-payments <args>`: its output so far, and a way to wait for a line. */
export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first line of `stream` that matches, once it is written. */
  line(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
}

/** Starts `pi-payments <args>` and keeps it running (killed after the test). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const text = { stdout: "", stderr: "" };
  const waiters: Array<() => void> = [];
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream]!.on("data", (chunk) => {
      text[stream] += chunk;
      for (const wake of waiters.splice(0)) wake();
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      for (const wake of waiters.splice(0)) wake();
      resolve(code);
    }),
  );
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    exited,
    async line(stream, pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = text[stream].split("\n").find((l) => pattern.test(l));
        if (found !== undefined) return found;
        if (done || Date.now() > deadline) {
          throw new Error(
            `pi-payments ${args.join(" ")}: no ${stream} line matching ${pattern}; stdout:\n${text.stdout}\nstderr:\n${text.stderr}`,
          );
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}
