import cliProgress from "cli-progress";
import Table from "cli-table3";
import type { PayoutEvent } from "../events/payout-event.js";
import type { Payout } from "../runtime/index.js";
import type { DeadLetter } from "../storage/feed-types.js";
import type { JournalEntry } from "../storage/types.js";
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

/** Payouts as a table: key, user, amount, age, payment id, txid, state. */
export function payoutTable(payouts: Payout[], now = Date.now()): string {
  const table = new Table({
    head: ["key", "user", "amount", "age", "payment id", "txid", "state"],
    style: { head: [], border: [] },
  });
  for (const payout of payouts) {
    table.push([
      payout.key,
      payout.uid,
      `${payout.amount} Pi`,
      formatAge(now - Date.parse(payout.createdAt)),
      payout.paymentId ?? "",
      payout.txid ? `${payout.txid.slice(0, 16)}…` : "",
      payout.state === "failed"
        ? `failed: ${payout.failure?.code ?? "?"}`
        : payout.hookFailure
          ? `${payout.state}, onSettled failing (${payout.hookFailure.attempts}×)`
          : payout.blockedBy
            ? `${payout.state}, waits for ${blockerText(payout.blockedBy)}`
            : payout.state,
    ]);
  }
  return table.toString();
}

/** How long ago, in the largest unit that fits: "12 s", "3 min", "5 h", "2 d". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}

/** One payout, field by field. */
export function payoutDetails(payout: Payout): string {
  const table = new Table({ style: { head: [], border: [] } });
  const rows: Array<[string, string]> = [
    ["key", payout.key],
    ["state", payout.stateDetail],
    ["uid", payout.uid],
    ["amount", `${payout.amount} Pi`],
    ["memo", payout.memo],
    ["payment id", payout.paymentId ?? "—"],
    ["txid", payout.txid ?? "—"],
    ["ledger", payout.ledger === null ? "—" : String(payout.ledger)],
    ["recipient", payout.toAddress ?? "—"],
    ["created", payout.createdAt],
    ["updated", payout.updatedAt],
  ];
  if (payout.failure) {
    rows.push(["failure", `${payout.failure.code}: ${payout.failure.message}`]);
    rows.push([
      "resumes from",
      `${payout.failure.resumeFrom} (retry), Pi payment ${payout.failure.paymentOpen ? "open" : "closed"}`,
    ]);
  }
  if (payout.hookFailure) {
    const { attempts, error, nextAttemptAt } = payout.hookFailure;
    rows.push([
      "onSettled",
      `failed ${attempts}× (${error.message}); the final step is tried again at ${nextAttemptAt}`,
    ]);
  }
  if (payout.cancelRequested) rows.push(["cancel", "requested; waits for a safe point"]);
  if (payout.blockedBy)
    rows.push(["waits for", `Pi's slot, held by ${blockerText(payout.blockedBy)}`]);
  for (const dead of payout.deadTransactions)
    rows.push(["dead envelope", `${dead.txid} (${dead.reason})`]);
  for (const [field, value] of rows) table.push({ [field]: value });
  return table.toString();
}

/** The payout holding the slot, its state and its failure, in a few words. */
function blockerText(blocker: NonNullable<Payout["blockedBy"]>): string {
  const failure = blocker.failure ? `, ${blocker.failure.code}` : "";
  return `${blocker.key} (${blocker.stateDetail}${failure})`;
}

/** A payout's journal as a table. */
export function journalTable(entries: JournalEntry[]): string {
  const table = new Table({
    head: ["at", "from → to", "event", "details", "by"],
    style: { head: [], border: [] },
    wordWrap: true,
    colWidths: [26, 48, 28, 40, 20],
  });
  for (const entry of entries) {
    table.push([
      entry.at,
      `${entry.from ?? "·"} → ${entry.to}`,
      entry.event,
      Object.entries(entry.details)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
        .join(" "),
      entry.owner ?? "",
    ]);
  }
  return table.toString();
}

/** Who made a step, in a few words: `alice (wrong amount)` or `process host:pid:…`. */
export function actorText(actor: PayoutEvent["actor"]): string {
  if (actor.type === "person") return actor.reason ? `${actor.name} (${actor.reason})` : actor.name;
  return `process ${actor.id ?? "?"}`;
}

/** One event on one line: seq, time, type, key, state, who. */
export function eventLine(event: PayoutEvent): string {
  return [
    String(event.seq).padStart(6),
    event.at,
    event.type.padEnd(16),
    event.key,
    event.state,
    actorText(event.actor),
  ].join("  ");
}

/** One dead letter on one line: id, consumer, event seq, tries, time, last failure. */
export function deadLetterLine(letter: DeadLetter): string {
  return [
    `#${letter.id}`,
    letter.consumer,
    `seq ${letter.seq}`,
    `${letter.attempts} tries`,
    letter.at,
    letter.error,
  ].join("  ");
}
