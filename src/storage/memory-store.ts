import { z } from "zod";
import { ConflictError, ValidationError } from "../domain/errors.js";
import { parseWith } from "../domain/validation.js";
import { compareKeys } from "./key-order.js";
import { createMemoryFeed } from "./memory-feed.js";
import { snapshotJson } from "./snapshot-json.js";
import type {
  JournalEntry,
  JournalInput,
  ListFilter,
  PayoutStore,
  PayoutWrite,
  SaveOptions,
  StoredPayout,
} from "./types.js";

const memoryStoreOptionsSchema = z
  .strictObject({
    /** The clock for leases, in ms. @default Date.now */
    now: z.custom<() => number>((v) => typeof v === "function", "must be a function").optional(),
  })
  .optional();

/** Options of {@link createMemoryStore}. */
export type MemoryStoreOptions = NonNullable<z.input<typeof memoryStoreOptionsSchema>>;

interface Lease {
  owner: string;
  expiresAt: number;
}

/**
 * A payout as kept here: scalars as they are, the object fields as JSON text, and its lease
 * apart, in `leases`. Text because every read must hand out a fresh copy and every write
 * must keep one the caller cannot change: serialising once and parsing on read costs half of
 * two deep clones, and it keeps exactly what the SQL stores keep (JSON, undefined dropped).
 */
interface Row {
  key: string;
  intentText: string;
  state: StoredPayout["state"];
  stateDetail: string;
  snapshotText: string;
  version: number;
  paymentId: string | null;
  txid: string | null;
  atRest: boolean;
  holdsSlot: boolean;
  hookFailureText: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * A store in this process's memory: for tests and throwaway runs. Everything is lost
 * when the process ends, so it cannot protect a payout across a crash.
 *
 * @example
 * const payouts = createPayouts({ ...credentials, store: createMemoryStore() });
 */
export function createMemoryStore(options?: MemoryStoreOptions): PayoutStore {
  const settings =
    parseWith(memoryStoreOptionsSchema, options, "memory store options", "INVALID_OPTIONS") ?? {};
  const now = settings.now ?? Date.now;
  const payouts = new Map<string, Row>();
  /** Each payout's journal lines, as their places in `lines`. */
  const journals = new Map<string, number[]>();
  const leases = new Map<string, Lease>();
  const slots = new Map<string, string>();
  /** Every journal line in `seq` order, as JSON text: the feed reads it. */
  const lines: string[] = [];

  const live = (lease: Lease | undefined) => lease !== undefined && lease.expiresAt > now();
  const view = (row: Row): StoredPayout => {
    const lease = leases.get(row.key);
    return {
      key: row.key,
      intent: JSON.parse(row.intentText),
      state: row.state,
      stateDetail: row.stateDetail,
      snapshot: JSON.parse(row.snapshotText),
      version: row.version,
      paymentId: row.paymentId,
      txid: row.txid,
      atRest: row.atRest,
      holdsSlot: row.holdsSlot,
      hookFailure: row.hookFailureText === null ? null : JSON.parse(row.hookFailureText),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      lease: lease
        ? { owner: lease.owner, expiresAt: new Date(lease.expiresAt).toISOString() }
        : null,
    };
  };

  const append = (key: string, version: number, entry: JournalInput) => {
    const line: JournalEntry = {
      ...entry,
      view: entry.view ?? null,
      seq: lines.length + 1,
      position: lines.length + 1,
      key,
      version,
    };
    const at = lines.push(JSON.stringify(line)) - 1;
    const places = journals.get(key);
    if (places) places.push(at);
    else journals.set(key, [at]);
  };

  const fromWrite = (
    key: string,
    intentText: string,
    write: PayoutWrite,
    version: number,
    createdAt: string,
  ): Row => ({
    key,
    intentText,
    state: write.state,
    stateDetail: write.stateDetail,
    snapshotText: snapshotJson(write),
    version,
    paymentId: write.paymentId,
    txid: write.txid,
    atRest: write.atRest,
    holdsSlot: write.holdsSlot,
    hookFailureText: write.hookFailure ? JSON.stringify(write.hookFailure) : null,
    createdAt,
    updatedAt: write.at,
  });

  return {
    name: "memory",
    // Nothing to share: a host transaction cannot span memory.
    hostTransactions: false,
    ...createMemoryFeed(lines, now),

    async create({ key, intent, write }, entry, createOptions = {}) {
      if (createOptions.tx !== undefined) {
        throw new ValidationError(
          "The memory store has no transactions to share: enqueue({ tx }) needs SQLite or PostgreSQL.",
          [{ path: "tx", message: "not supported by the memory store" }],
          "INVALID_OPTIONS",
        );
      }
      const { lease, slot } = createOptions;
      const existing = payouts.get(key);
      if (existing) return { created: false, payout: view(existing) };
      const payout = fromWrite(key, JSON.stringify(intent), write, 1, write.at);
      payouts.set(key, payout);
      if (lease) leases.set(key, { owner: lease.owner, expiresAt: now() + lease.ttlMs });
      if (slot !== undefined && write.holdsSlot && !slots.has(slot)) slots.set(slot, key);
      append(key, 1, entry);
      return { created: true, payout: view(payout) };
    },

    async save(key, expectedVersion, write, entry, saveOptions: SaveOptions = {}) {
      const current = payouts.get(key);
      if (!current || current.version !== expectedVersion) {
        throw new ConflictError(
          `Payout ${key} changed since version ${expectedVersion}; reload it.`,
          {
            key,
            expectedVersion,
            actualVersion: current?.version,
          },
        );
      }
      if (saveOptions.owner !== undefined) {
        const lease = leases.get(key);
        if (!live(lease) || lease?.owner !== saveOptions.owner) {
          throw new ConflictError(
            `The lease on payout ${key} was lost; another runner may drive it now.`,
            { key },
          );
        }
      }
      if (saveOptions.within !== undefined) {
        throw new ValidationError(
          "The memory store has no transactions to share: onSettled needs SQLite or PostgreSQL.",
          [{ path: "onSettled", message: "not supported by the memory store" }],
          "INVALID_OPTIONS",
        );
      }
      const next = fromWrite(
        key,
        current.intentText,
        write,
        expectedVersion + 1,
        current.createdAt,
      );
      payouts.set(key, next);
      append(key, next.version, entry);
      if (saveOptions.releaseSlot !== undefined && slots.get(saveOptions.releaseSlot) === key) {
        slots.delete(saveOptions.releaseSlot);
      }
      if (saveOptions.release) leases.delete(key);
      return view(next);
    },

    async get(key) {
      const payout = payouts.get(key);
      return payout ? view(payout) : undefined;
    },

    async findByPaymentId(paymentId) {
      for (const payout of payouts.values())
        if (payout.paymentId === paymentId) return view(payout);
      return undefined;
    },

    async list(filter: ListFilter = {}) {
      const states = filter.state === undefined ? undefined : ([] as string[]).concat(filter.state);
      const { afterKey } = filter;
      return [...payouts.values()]
        .filter((p) => (states ? states.includes(p.state) : true))
        .filter((p) => (filter.atRest === undefined ? true : p.atRest === filter.atRest))
        .filter((p) => (afterKey === undefined ? true : compareKeys(p.key, afterKey) > 0))
        .sort((a, b) => compareKeys(a.key, b.key))
        .slice(0, filter.limit ?? 100)
        .map(view);
    },

    async journal(key) {
      return (journals.get(key) ?? []).map((at) => JSON.parse(lines[at]!) as JournalEntry);
    },

    async claim(key, owner, ttlMs) {
      const lease = leases.get(key);
      if (live(lease) && lease?.owner !== owner) return false;
      leases.set(key, { owner, expiresAt: now() + ttlMs });
      return true;
    },

    async claimNext(owner, ttlMs, exclude = []) {
      const candidates = [...payouts.values()]
        .filter((p) => !p.atRest && !exclude.includes(p.key) && !live(leases.get(p.key)))
        .sort((a, b) =>
          a.createdAt < b.createdAt
            ? -1
            : a.createdAt > b.createdAt
              ? 1
              : compareKeys(a.key, b.key),
        );
      const [next] = candidates;
      if (!next) return undefined;
      leases.set(next.key, { owner, expiresAt: now() + ttlMs });
      return view(next);
    },

    async renewAll(owner, ttlMs) {
      const held: string[] = [];
      for (const [key, lease] of leases) {
        if (lease.owner === owner && live(lease)) {
          lease.expiresAt = now() + ttlMs;
          held.push(key);
        }
      }
      return held;
    },

    async release(key, owner) {
      if (leases.get(key)?.owner === owner) leases.delete(key);
    },

    async takeOver(from, to, ttlMs) {
      const moved: string[] = [];
      for (const [key, lease] of leases) {
        if (lease.owner === from) {
          leases.set(key, { owner: to, expiresAt: now() + ttlMs });
          moved.push(key);
        }
      }
      return moved;
    },

    async leaseOwners() {
      return [...new Set([...leases.values()].filter(live).map((lease) => lease.owner))];
    },

    async acquireSlot(scope, key) {
      if (payouts.get(key)?.holdsSlot !== true) return false;
      const holder = slots.get(scope);
      // A holder that is no payout, or may no longer hold it, leaked the slot: take it over.
      if (holder !== undefined && holder !== key && payouts.get(holder)?.holdsSlot === true) {
        return false;
      }
      slots.set(scope, key);
      return true;
    },

    async releaseSlot(scope, key) {
      if (slots.get(scope) === key) slots.delete(scope);
    },

    async slotHolder(scope) {
      return slots.get(scope);
    },

    async close() {},
  };
}
