export type {
  JournalEntry,
  JournalInput,
  ListFilter,
  PayoutLease,
  PayoutStore,
  PayoutWrite,
  SaveOptions,
  StoredPayout,
} from "./types.js";
