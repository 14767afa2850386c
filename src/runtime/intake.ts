import { ValidationError } from "../domain/errors.js";
import type { JsonObject } from "../domain/json.js";
import type { NetworkName } from "../domain/payment-dto.js";
import { type PayoutArgs, parsePayoutArgs } from "../domain/payout-args.js";
import { startPayout } from "../machines/step.js";
import type { PayoutIntent, RetryTiming } from "../machines/types.js";
import type { JournalInput, PayoutStore, StoredPayout } from "../storage/types.js";
import { toPayout } from "./payout-view.js";
import { payoutWrite } from "./payout-write.js";
import { recordFields, type Scrubber, scrubbedWrite } from "./scrub.js";

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

type Inserted = { created: boolean; payout: StoredPayout };

/** Stores a payout's intent once per key; a key used again with other arguments is refused. */
export interface Intake {
  insert(args: PayoutArgs, options?: InsertOptions): Promise<Inserted>;
  /**
   * The same inside the host's open transaction on a "sync" store (SQLite): done when it
   * returns, and every refusal (bad arguments, a key reused, the store) throws there, so
   * that the host's synchronous transaction function rolls back with it.
   */
  insertWithin(tx: unknown, args: PayoutArgs, traceparent?: string): Inserted;
}

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
  /**
   * Whether a payout taken in now may take its scope's slot in the insert, if free: only
   * when nobody in this process queues for it (a new payout must not pass payouts that
   * wait). Leased payouts only: an enqueued one may wait long for a worker, holding nothing.
   */
  mayTakeSlot?: (scope: string) => boolean;
}): Intake {
  /** The new payout and its first journal line (synchronous: it validates and builds). */
  const prepare = (args: PayoutArgs, adopt: boolean, traceparent: string | undefined) => {
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
    const write = scrubbedWrite(raw, deps.scrub);
    const first: StoredPayout = {
      key: valid.key,
      intent,
      ...recordFields(write),
      hookFailure: null,
      version: 1,
      lease: null,
      createdAt: at,
      updatedAt: at,
    };
    const entry: JournalInput = {
      at,
      from: null,
      to: write.stateDetail,
      event: adopt ? "ADOPT" : "PAY",
      details: { uid: valid.uid, amount: valid.amount },
      owner: deps.owner,
      view: deps.scrub(toPayout(first)) as unknown as JsonObject,
    };
    return { payout: { key: valid.key, intent, write }, entry };
  };

  /** A key already stored is the same payout only with the same arguments. */
  const sameOrRefused = (result: Inserted, intent: PayoutIntent): Inserted => {
    if (!result.created && !sameIntent(result.payout.intent, intent)) {
      throw new ValidationError(
        `Payout key "${result.payout.key}" was already used for a different payout (${result.payout.intent.amount} Pi to ${result.payout.intent.uid}). Use a new key for a new payout.`,
        [{ path: "key", message: "already used with different arguments" }],
        "KEY_REUSED",
      );
    }
    return result;
  };

  return {
    async insert(args, { adopt = false, lease = false, tx, traceparent } = {}) {
      const { payout, entry } = prepare(args, adopt, traceparent);
      // The scope the payout itself names, so the slot taken is the one it waits for.
      const scope = payout.write.snapshot.context.slotScope;
      const slot = lease && tx === undefined && deps.mayTakeSlot?.(scope) === true;
      const result = await deps.store.create(payout, entry, {
        ...(lease ? { lease: { owner: deps.owner, ttlMs: deps.leaseMs } } : {}),
        ...(slot ? { slot: scope } : {}),
        ...(tx === undefined ? {} : { tx }),
      });
      return sameOrRefused(result, payout.intent);
    },

    insertWithin(tx, args, traceparent) {
      const { store } = deps;
      if (store.createWithin === undefined) {
        throw new ValidationError(
          `Invalid enqueue options: tx: the ${store.name} store takes no synchronous transaction.`,
          [{ path: "tx", message: "not supported by this store" }],
          "INVALID_OPTIONS",
        );
      }
      const { payout, entry } = prepare(args, false, traceparent);
      return sameOrRefused(store.createWithin(tx, payout, entry), payout.intent);
    },
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
