import { afterEach } from "vitest";
import { type Sandbox, type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";

const running = new Set<Sandbox>();

afterEach(async () => {
  await Promise.all([...running].map((s) => s.close()));
  running.clear();
});

/**
 * A sandbox on a free loopback port, closed after the test. Defaults suit tests: ledgers
 * closed only on demand, each counting as 5 s of chain time.
 */
export async function testSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({
    ledgerIntervalMs: "manual",
    clock: "simulated",
    seed: 42,
    ...options,
  });
  running.add(sandbox);
  return sandbox;
}

/** Calls the sandbox's Pi API with its key, as any HTTP client would. */
export async function piFetch(
  sandbox: Sandbox,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read Pi's JSON answers field by field.
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${sandbox.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Key ${sandbox.apiKey}`,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // HTML error pages stay text.
  }
  return { status: response.status, body: parsed };
}

/** Waits until `fn` returns true, closing ledgers in between when asked. */
export async function eventually(
  fn: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, stepMs = 5 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
