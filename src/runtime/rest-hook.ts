import { PiPaymentsError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json.js";
import type { PayoutWrite, SaveOptions, StoredPayout } from "../storage/types.js";
import type { RunnerDeps, SavedStep } from "./runner-types.js";
import { recordFields, scrubbedWrite } from "./scrub.js";

/** The host's rest hook threw: the save it was part of was rolled back. */
export class HookError extends PiPaymentsError {
  constructor(cause: unknown) {
    super(
      `onSettled threw, so the step that brings the payout to rest was rolled back; it is tried again with backoff: ${cause instanceof Error ? cause.message : String(cause)}`,
      { code: "ON_SETTLED_FAILED", retryable: true, cause },
    );
  }
}

/**
 * The hook returned a promise inside a synchronous (SQLite) transaction. Its work after the
 * first await runs outside the transaction and cannot be taken back, so trying again would
 * only repeat it: the step is refused and parked (see {@link HOOK_PARKED_MS}).
 */
export class AsyncHookError extends PiPaymentsError {
  constructor() {
    super(
      "onSettled returned a promise on a SQLite store: its work after the first await ran outside the transaction (check what it wrote). The step is not tried again for an hour; make the hook synchronous and restart.",
      { code: "ON_SETTLED_ASYNC", retryable: false },
    );
  }
}

/** How long a step refused by an {@link AsyncHookError} waits: until a person fixes the hook. */
const HOOK_PARKED_MS = 3_600_000;

/** Doubling from 1 s to 5 min: a broken hook is retried for ever, never in a tight loop. */
const defaultHookBackoff = (attempt: number) => Math.min(300_000, 1000 * 2 ** (attempt - 1));

/** A save the host's hook refused: it threw, or it returned a promise on SQLite. */
export type HookRefusal = HookError | AsyncHookError;

/** Whether a save failed because the host's hook refused it (not the store). */
export const isHookRefusal = (error: unknown): error is HookRefusal =>
  error instanceof HookError || error instanceof AsyncHookError;

/** The wait before a refused step is tried again, after `attempt` refusals in a row. */
export function refusalDelayMs(
  error: HookRefusal,
  attempt: number,
  backoff: ((attempt: number) => number) | undefined = defaultHookBackoff,
): number {
  return error instanceof AsyncHookError ? HOOK_PARKED_MS : backoff(attempt);
}

/** The step was refused by the rest hook and recorded as such: the runner tries it again. */
export class HookRefused extends Error {}

/** The record as the save of `write` will leave it: its view is journaled before it is saved. */
export function upcoming(record: StoredPayout, write: PayoutWrite): StoredPayout {
  return {
    ...record,
    ...recordFields(write),
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
  deps: Pick<RunnerDeps<S>, "onRest" | "store" | "leaseMs">,
  previous: StoredPayout,
  write: PayoutWrite,
  view: JsonObject,
): SaveOptions["within"] {
  const { onRest, store, leaseMs } = deps;
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
    if (store.hostTransactions === "sync") {
      // Work awaited after a synchronous transaction runs outside it. Its failure has no one
      // to go to: caught, so that it does not bring the host's process down.
      (result as Promise<void>).then(undefined, () => undefined);
      throw new AsyncHookError();
    }
    // A hook holds the payout's row (and its lease renewal) while it runs: it gets a third
    // of the lease, then the save is rolled back. The store drops the transaction's client
    // on a rollback, so whatever the hook still sends on it fails instead of landing.
    const limitMs = Math.round(leaseMs / 3);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`it did not finish within ${limitMs} ms (a third of the lease)`)),
        limitMs,
      );
    });
    return Promise.race([result as Promise<void>, timedOut])
      .catch((error: unknown) => {
        throw new HookError(error);
      })
      .finally(() => clearTimeout(timer));
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
    error: HookRefusal;
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
  const write = { ...scrubbedWrite(raw, scrub), hookFailure };
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
