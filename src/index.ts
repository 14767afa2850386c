export * from "./adapters/index.js";
export * from "./domain/index.js";
export { PAYOUT_KEY_FIELD, type PayoutArgs, parsePayoutArgs } from "./domain/payout-args.js";
export { type ErrorCodeInfo, errorCatalog, explainError } from "./error-catalog.js";
export {
  PAYOUT_STATES,
  type PayoutFailure,
  type PayoutState,
  SETTLED_STATES,
} from "./machines/types.js";
export { payoutMachine } from "./public-machine.js";
export * from "./runtime/index.js";
export { createMemoryStore, type MemoryStoreOptions } from "./storage/memory-store.js";
export { createSqliteStore, type SqliteStoreOptions } from "./storage/sqlite-store.js";
export type * from "./storage/types.js";
