import type { PayoutsOptions } from "../runtime/create-payouts.js";
import type { CliIo } from "./io.js";

/**
 * With `--inspect`: starts @statelyai/inspect's local inspector server and returns the
 * option that connects payouts to it. Open the printed address in a browser.
 */
export async function startInspector(
  io: CliIo,
  enabled: boolean | undefined,
  port = Number(process.env.PI_PAYMENTS_INSPECT_PORT ?? 8080),
): Promise<{ options: Partial<PayoutsOptions>; keepOpen: () => Promise<void>; stop: () => void }> {
  if (!enabled) return { options: {}, keepOpen: async () => {}, stop: () => {} };
  const { createInspectorServer } = await import("@statelyai/inspect/server");
  const server = createInspectorServer({ port, autoOpen: false });
  io.err(`Inspector: open http://localhost:${port} in a browser to watch every payout's machine.`);
  return {
    options: { inspect: { url: `ws://localhost:${port}` } },
    keepOpen: async () => {
      io.err(`Inspector still serving http://localhost:${port}; press Ctrl-C to quit.`);
      await io.untilInterrupted();
    },
    stop: () => server.stop(),
  };
}
