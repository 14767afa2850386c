import type { PayoutWrite } from "./types.js";

/** The JSON text a store writes for a write's snapshot: the runtime's, else made here. */
export const snapshotJson = (write: PayoutWrite): string =>
  write.snapshotJson ?? JSON.stringify(write.snapshot);
