import { ConfigurationError } from "../domain/errors.js";
import type { PayoutsOptions } from "../runtime/index.js";
import { startInspectorServer } from "../runtime/inspector-server.js";
import type { CliIo } from "./io.js";

/**
 * With `--inspect`: starts a local inspector server (loopback only unless
 * `PI_PAYMENTS_INSPECT_HOST` says otherwise; port `PI_PAYMENTS_INSPECT_PORT`, default 8080)
 * and returns the option that connects payouts to it. Open the printed address in a browser.
 */
export async function startInspector(
  io: CliIo,
  enabled: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{
  options: Partial<PayoutsOptions>;
  keepOpen: () => Promise<void>;
  stop: () => Promise<void>;
}> {
  if (!enabled) return { options: {}, keepOpen: async () => {}, stop: async () => {} };
  const portText = env.PI_PAYMENTS_INSPECT_PORT ?? "8080";
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65_535) {
    throw new ConfigurationError(
      `PI_PAYMENTS_INSPECT_PORT must be a port number (0 for any free one), got "${portText}".`,
      "INVALID_INSPECT_PORT",
    );
  }
  const server = await startInspectorServer({
    port: Number(portText),
    host: env.PI_PAYMENTS_INSPECT_HOST ?? "127.0.0.1",
  });
  io.err(
    `Inspector: open ${server.url} in a browser to watch every payout's machine (the page embeds Stately's hosted inspector from stately.ai: the browser needs internet access).`,
  );
  return {
    options: { inspect: { url: server.websocketUrl } },
    keepOpen: async () => {
      // Listen before inviting Ctrl-C: one sent right after the line must not kill the process.
      const interrupted = io.untilInterrupted();
      io.err(`Inspector still serving ${server.url}; press Ctrl-C to quit.`);
      await interrupted;
    },
    stop: () => server.close(),
  };
}

/** Calls `open` with the inspector's options; stops the inspector if that throws (a bad setting). */
export function withInspector<T>(
  inspector: { options: Partial<PayoutsOptions>; stop: () => Promise<void> },
  open: (options: Partial<PayoutsOptions>) => T,
): Promise<T> {
  try {
    return Promise.resolve(open(inspector.options));
  } catch (error) {
    // A listening server would keep the process running after the error is printed.
    return inspector.stop().then(() => Promise.reject(error));
  }
}
