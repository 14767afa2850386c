export type {
  JournalEntry,
  JournalInput,
  ListFilter,
  PayoutStore,
  PayoutWrite,
  SaveOptions,
  StoredPayout,
} from "./types.js";
