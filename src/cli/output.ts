import cliProgress from "cli-progress";
import Table from "cli-table3";
import type { Payout } from "../runtime/payout-view.js";
import type { CliIo } from "./io.js";

/** A progress bar on a terminal; a line per tenth elsewhere (CI logs stay short); nothing for --json. */
export function createProgress(io: CliIo, total: number, label: string, quiet: boolean) {
  if (quiet) return { increment: (_state: string) => {}, stop: () => {} };
  if (io.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {state}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { state: "" });
    let stopped = false;
    return {
      increment: (state: string) => bar.increment({ state }),
      stop: () => {
        if (!stopped) bar.stop();
        stopped = true;
      },
    };
  }
  let done = 0;
  const step = Math.max(1, Math.ceil(total / 10));
  return {
    increment: (_state: string) => {
      done += 1;
      if (done % step === 0 || done === total) io.out(`${label}: ${done}/${total}`);
    },
    stop: () => {},
  };
}

/** Payouts as a table: key, payment id, txid, state. */
export function payoutTable(payouts: Payout[]): string {
  const table = new Table({
    head: ["key", "payment id", "txid", "state"],
    style: { head: [], border: [] },
  });
  for (const payout of payouts) {
    table.push([
      payout.key,
      payout.paymentId ?? "",
      payout.txid ? `${payout.txid.slice(0, 16)}…` : "",
      payout.state === "failed" ? `failed: ${payout.failure?.code ?? "?"}` : payout.state,
    ]);
  }
  return table.toString();
}
