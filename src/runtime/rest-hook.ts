import { PiPaymentsError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json.js";
import type { PayoutWrite, SaveOptions, StoredPayout } from "../storage/types.js";
import type { RunnerDeps, SavedStep } from "./runner-types.js";

/** The host's rest hook threw: the save it was part of was rolled back. */
export class HookError extends PiPaymentsError {
  constructor(cause: unknown) {
    super(
      `onSettled threw, so the step that brings the payout to rest was rolled back; it is tried again with backoff: ${cause instanceof Error ? cause.message : String(cause)}`,
      { code: "ON_SETTLED_FAILED", retryable: true, cause },
    );
  }
}

/** The step was refused by the rest hook and recorded as such: the runner tries it again. */
export class HookRefused extends Error {}

/** The record as the save of `write` will leave it: its view is journaled before it is saved. */
export function upcoming(record: StoredPayout, write: PayoutWrite): StoredPayout {
  return {
    ...record,
    ...write,
    hookFailure: write.hookFailure ?? null,
    version: record.version + 1,
    updatedAt: write.at,
  };
}

/**
 * The host's hook for a save, if it brings the machine to a rest state it was not in (a
 * failed payout cancelled is a new rest). Its throw becomes a HookError, so that the runner
 * tells it from a failure of the store itself.
 */
export function restHookFor<S>(
  deps: Pick<RunnerDeps<S>, "onRest" | "store">,
  previous: StoredPayout,
  write: PayoutWrite,
  view: JsonObject,
): SaveOptions["within"] {
  const { onRest, store } = deps;
  const enteringRest =
    write.atRest && (!previous.atRest || write.stateDetail !== previous.stateDetail);
  if (!onRest || !enteringRest) return undefined;
  return (tx) => {
    let result: void | Promise<void>;
    try {
      result = onRest(structuredClone(view), tx);
    } catch (error) {
      throw new HookError(error);
    }
    if (typeof (result as Promise<void> | undefined)?.then !== "function") return;
    // Work awaited after a synchronous transaction would run outside it: refuse the step.
    if (store.hostTransactions === "sync") {
      throw new HookError(
        new Error(
          "it returned a promise on a SQLite store, whose transactions are synchronous: do the write synchronously with the better-sqlite3 handle it is given",
        ),
      );
    }
    return (result as Promise<void>).catch((error: unknown) => {
      throw new HookError(error);
    });
  };
}

/**
 * Saves the hook's refusal: the machine's snapshot unchanged, `hookFailure` set (status,
 * list and the events show it), journaled as `onSettled.error`.
 */
export async function saveHookRefusal<S>(
  deps: Pick<RunnerDeps<S>, "machine" | "scrub" | "store" | "owner" | "now">,
  refused: {
    record: StoredPayout;
    snapshot: S;
    attempts: number;
    delayMs: number;
    error: HookError;
  },
): Promise<{ record: StoredPayout; step: SavedStep }> {
  const { machine, scrub, store, owner, now } = deps;
  const at = now();
  const iso = new Date(at).toISOString();
  const raw = machine.write(refused.snapshot, iso);
  const hookFailure = {
    attempts: refused.attempts,
    error: scrub(refused.error.toJSON()),
    at: iso,
    nextAttemptAt: new Date(at + refused.delayMs).toISOString(),
  };
  const write = { ...raw, snapshot: scrub(raw.snapshot), hookFailure };
  const details = { attempt: refused.attempts, message: hookFailure.error.message };
  const detail = machine.describe(refused.snapshot).detail;
  const record = await store.save(
    refused.record.key,
    refused.record.version,
    write,
    {
      at: iso,
      from: detail,
      to: detail,
      event: "onSettled.error",
      details,
      owner,
      view: machine.view(upcoming(refused.record, write)),
    },
    { owner },
  );
  return {
    record,
    step: {
      key: record.key,
      from: detail,
      to: detail,
      event: "onSettled.error",
      details,
      at: iso,
      payout: record,
    },
  };
}
