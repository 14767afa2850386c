import { ValidationError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json.js";
import type { NetworkName } from "../domain/payment-dto.js";
import { type PayoutArgs, parsePayoutArgs } from "../domain/payout-args.js";
import { startPayout } from "../machines/step.js";
import type { PayoutIntent, RetryTiming } from "../machines/types.js";
import type { PayoutStore, StoredPayout } from "../storage/types.js";
import { toPayout } from "./payout-view.js";
import { payoutWrite } from "./payout-write.js";
import type { Scrubber } from "./scrub.js";

/** How a payout enters the store. */
export interface InsertOptions {
  /** Adopting a Pi payment a lost record made (an orphan): it looks before creating. */
  adopt?: boolean;
  /** Leased to this runtime at once (pay() drives what it creates; enqueue leaves it to workers). */
  lease?: boolean;
  /** The host's open transaction to store it in (see `CreateOptions.tx`). */
  tx?: unknown;
  /** The trace it was taken in with, stored with it (see `PayoutContext.traceparent`). */
  traceparent?: string | undefined;
}

/** Stores a payout's intent once per key; a key used again with other arguments is refused. */
export type Insert = (
  args: PayoutArgs,
  options?: InsertOptions,
) => Promise<{ created: boolean; payout: StoredPayout }>;

/** Intake for one runtime: validate, make the first snapshot, store it with its first journal line. */
export function createIntake(deps: {
  store: PayoutStore;
  walletAddress: string;
  network: NetworkName;
  scopeOf: (uid: string) => string;
  timing: RetryTiming;
  now: () => number;
  scrub: Scrubber;
  owner: string;
  leaseMs: number;
}): Insert {
  // Synchronous up to the store's create: on SQLite, enqueue({ tx }) runs inside the host's
  // synchronous transaction function, so nothing may be awaited before the insert.
  return async (args, { adopt = false, lease = false, tx, traceparent } = {}) => {
    const valid = parsePayoutArgs(args);
    const intent: PayoutIntent = {
      uid: valid.uid,
      amount: valid.amount,
      memo: valid.memo,
      metadata: valid.metadata,
    };
    const snapshot = startPayout({
      key: valid.key,
      intent,
      walletAddress: deps.walletAddress,
      network: deps.network,
      slotScope: deps.scopeOf(valid.uid),
      timing: deps.timing,
      adopt,
      at: deps.now(),
      traceparent,
    });
    const at = new Date(deps.now()).toISOString();
    const raw = payoutWrite(snapshot, at);
    const write = { ...raw, snapshot: deps.scrub(raw.snapshot) };
    const first: StoredPayout = {
      key: valid.key,
      intent,
      ...write,
      hookFailure: null,
      version: 1,
      lease: null,
      createdAt: at,
      updatedAt: at,
    };
    const result = await deps.store.create(
      { key: valid.key, intent, write },
      {
        at,
        from: null,
        to: write.stateDetail,
        event: adopt ? "ADOPT" : "PAY",
        details: { uid: valid.uid, amount: valid.amount },
        owner: deps.owner,
        view: deps.scrub(toPayout(first)) as unknown as JsonObject,
      },
      {
        ...(lease ? { lease: { owner: deps.owner, ttlMs: deps.leaseMs } } : {}),
        ...(tx === undefined ? {} : { tx }),
      },
    );
    if (!result.created && !sameIntent(result.payout.intent, intent)) {
      throw new ValidationError(
        `Payout key "${valid.key}" was already used for a different payout (${result.payout.intent.amount} Pi to ${result.payout.intent.uid}). Use a new key for a new payout.`,
        [{ path: "key", message: "already used with different arguments" }],
        "KEY_REUSED",
      );
    }
    return result;
  };
}

function sameIntent(a: PayoutIntent, b: PayoutIntent): boolean {
  return (
    a.uid === b.uid &&
    a.amount === b.amount &&
    a.memo === b.memo &&
    stableJson(a.metadata) === stableJson(b.metadata)
  );
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}
