import type { PayoutStore } from "../storage/types.js";

/**
 * The default store, a SQLite file in the working directory, loaded on its first use: an
 * app that passes its own store, or only uses `PiNetwork`, never loads the native SQLite
 * module.
 */
export function defaultStore(path = "pi-payments.db"): PayoutStore {
  let opened: Promise<PayoutStore> | undefined;
  const store = () =>
    (opened ??= import("../storage/sqlite-store.js").then((m) => m.createSqliteStore({ path })));
  const lazy =
    (name: Exclude<keyof PayoutStore, "name">) =>
    async (...args: unknown[]) =>
      ((await store())[name] as (...a: unknown[]) => Promise<unknown>)(...args);
  return {
    name: "sqlite",
    create: lazy("create"),
    save: lazy("save"),
    get: lazy("get"),
    findByPaymentId: lazy("findByPaymentId"),
    list: lazy("list"),
    journal: lazy("journal"),
    claim: lazy("claim"),
    claimNext: lazy("claimNext"),
    renewAll: lazy("renewAll"),
    release: lazy("release"),
    takeOver: lazy("takeOver"),
    leaseOwners: lazy("leaseOwners"),
    acquireSlot: lazy("acquireSlot"),
    releaseSlot: lazy("releaseSlot"),
    slotHolder: lazy("slotHolder"),
    close: async () => {
      if (opened) await (await opened).close();
    },
  } as PayoutStore;
}
