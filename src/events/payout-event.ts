import type { PayoutState } from "../machines/types.js";
import type { Payout } from "../runtime/payout-view.js";
import type { JournalEntry } from "../storage/types.js";

/** The version of the event shape below; a change that breaks a reader raises it. */
export const PAYOUT_EVENT_VERSION = 1;

/** What an event says happened. */
export type PayoutEventType =
  | "payout.created"
  | "payout.completed"
  | "payout.failed"
  | "payout.cancelled"
  | "payout.retried"
  | "payout.step";

/** Who made the step: a person (a cancel or retry with `by`), or a runtime's process. */
export type PayoutActor =
  | { type: "person"; name: string; reason: string | null }
  | { type: "process"; id: string | null };

/**
 * One saved step of a payout, as the event feed hands it on: derived from the journal line
 * written in the same transaction as the step, so no step is ever without its event, and
 * no event without its step. JSON-stable: every field is plain data, and a field is only
 * ever added (a breaking change raises `v`). Never holds a secret.
 */
export interface PayoutEvent {
  /** The shape's version: {@link PAYOUT_EVENT_VERSION}. */
  v: typeof PAYOUT_EVENT_VERSION;
  /** Stable and unique in the store (`evt_` + the journal line's seq): dedupe on it. */
  id: string;
  /** The event's place in the feed (commit order): `read({ after })` and cursors use it. */
  seq: number;
  type: PayoutEventType;
  /** The payout's key. */
  key: string;
  /** The payout's main state after the step. */
  state: PayoutState;
  /** The full state path after the step, e.g. `submitted.waiting`. */
  stateDetail: string;
  /** When the step happened (runtime time), ISO 8601. */
  at: string;
  /** The payout as of this step (null only on steps saved before the feed existed). */
  payout: Payout | null;
  actor: PayoutActor;
  step: {
    /** The state path before (null for `payout.created`). */
    from: string | null;
    /** What caused it: `PAY`, `CANCEL`, `submitTransaction.done`, `onSettled.error`… */
    event: string;
    /** The journal line's facts (ids, codes, `by` and `reason`), never a payload. */
    details: Record<string, unknown>;
    /** The payout's version after the step. */
    version: number;
  };
}

/** The main state of a state path (`submitted.waiting` → `submitted`). */
const top = (path: string) => {
  const dot = path.indexOf(".");
  return dot === -1 ? path : path.slice(0, dot);
};

/** The event type a journal line stands for. */
export function eventTypeOf(line: Pick<JournalEntry, "from" | "to" | "event">): PayoutEventType {
  if (line.from === null) return "payout.created";
  if (line.event === "RETRY") return "payout.retried";
  const to = top(line.to);
  // Entering an outcome; the steps inside one (failed.watching → failed.resting) are steps.
  if (to !== top(line.from)) {
    if (to === "completed") return "payout.completed";
    if (to === "cancelled") return "payout.cancelled";
    if (to === "failed") return "payout.failed";
  }
  return "payout.step";
}

/** Who made a step: the `by` of a person's command, or the process that saved it. */
export function actorOf(line: Pick<JournalEntry, "details" | "owner">): PayoutActor {
  const { by, reason } = line.details;
  if (typeof by === "string") {
    return { type: "person", name: by, reason: typeof reason === "string" ? reason : null };
  }
  return { type: "process", id: line.owner };
}

/** The event of a journal line the feed has placed (`position` set). */
export function toPayoutEvent(line: JournalEntry): PayoutEvent {
  if (line.position === null) {
    throw new Error(`Journal line ${line.seq} has no place in the feed yet.`);
  }
  return {
    v: PAYOUT_EVENT_VERSION,
    id: `evt_${line.seq}`,
    seq: line.position,
    type: eventTypeOf(line),
    key: line.key,
    state: top(line.to) as PayoutState,
    stateDetail: line.to,
    at: line.at,
    payout: line.view as Payout | null,
    actor: actorOf(line),
    step: { from: line.from, event: line.event, details: line.details, version: line.version },
  };
}
