import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { PayoutStore } from "../../src/storage/types.js";

/** A store whose power can be cut: what was not synced to "disk" is lost. */
export interface PowerCutStore extends PayoutStore {
  /** Loses every write since the last durable one, as a power cut loses an unsynced log. */
  cut(): void;
  /** Writes lost by the cuts so far. */
  readonly lost: number;
}

const writes = new Set([
  "create",
  "save",
  "claim",
  "claimNext",
  "renewAll",
  "release",
  "takeOver",
  "acquireSlot",
  "releaseSlot",
  "claimConsumer",
  "ackConsumer",
  "releaseConsumer",
  "addDeadLetter",
  "removeDeadLetter",
]);

/**
 * A memory store that models a disk behind a write-back log, as SQLite in WAL mode with
 * synchronous NORMAL is: every write lands in the log; a durable one (`create`, or a save
 * with `durable: true`) syncs the log, and with it everything before. A cut replays only
 * the synced prefix into a fresh store. With `honourDurable: false` it models a store that
 * syncs only new payouts, to show which saves must be durable. The feed syncs the log before
 * it hands out journal lines, as the SQLite store's does; `feedSyncs: false` models a feed
 * that hands out lines a cut can undo.
 */
export function createPowerCutStore(
  options: { honourDurable?: boolean; feedSyncs?: boolean } = {},
): PowerCutStore {
  const honour = options.honourDurable ?? true;
  const feedSyncs = options.feedSyncs ?? true;
  const log: Array<{ name: string; args: unknown[] }> = [];
  let synced = 0;
  let lost = 0;
  let current = createMemoryStore();

  const store = {} as Record<string, unknown>;
  for (const name of Object.keys(current) as Array<keyof PayoutStore>) {
    if (name === "name") continue;
    store[name] = async (...args: unknown[]) => {
      if (name === "readJournal" && feedSyncs) synced = log.length;
      const result = await (current[name] as (...a: unknown[]) => Promise<unknown>)(...args);
      if (writes.has(name)) {
        log.push({ name, args: structuredClone(args) });
        // A create whose key exists writes nothing, so it syncs nothing either.
        const durable =
          (name === "create" && (result as { created?: boolean }).created === true) ||
          (honour && name === "save" && (args[4] as { durable?: boolean } | undefined)?.durable);
        if (durable) synced = log.length;
      }
      return result;
    };
  }
  Object.assign(store, {
    name: "power-cut memory",
    cut() {
      lost += log.length - synced;
      log.length = synced;
      current = createMemoryStore();
      // Replayed into a fresh store: a refused write (a lost lease, say) refuses again.
      const replay = log.map(({ name, args }) =>
        (current[name as keyof PayoutStore] as (...a: unknown[]) => Promise<unknown>)(
          ...structuredClone(args),
        ).catch(() => undefined),
      );
      void Promise.all(replay);
    },
  });
  // A getter, defined as one: Object.assign would copy its value once, and it would stay 0.
  Object.defineProperty(store, "lost", { get: () => lost, enumerable: true });
  return store as unknown as PowerCutStore;
}
