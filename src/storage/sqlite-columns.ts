import { snapshotJson } from "./snapshot-json.js";
import type { PayoutWrite } from "./types.js";

/** The indexed columns a save may change, as stored. */
export interface IndexedColumns {
  state: string;
  settled: number;
  payment_id: string | null;
}

/** A new payout's column values, in the insert's order. */
export const writeParams = (write: PayoutWrite) => [
  write.state,
  write.stateDetail,
  snapshotJson(write),
  write.paymentId,
  write.txid,
  write.atRest ? 1 : 0,
  write.holdsSlot ? 1 : 0,
  write.hookFailure ? JSON.stringify(write.hookFailure) : null,
  write.at,
];

/**
 * The SET list of a save and its parameters. SQLite rewrites an index entry whenever its
 * column is assigned, even to the value it had, and every page so touched is written to
 * the WAL at commit (and later to the file). So the indexed columns (state, settled,
 * payment_id) are assigned only when this save changes them: most saves change one at
 * most, and a payout's steps write about a fifth fewer pages.
 */
export const assignments = (write: PayoutWrite, current: IndexedColumns | undefined) => {
  const sets: string[] = [];
  const params: unknown[] = [];
  const assign = (column: string, value: unknown) => {
    sets.push(`${column} = ?`);
    params.push(value);
  };
  assign("state_detail", write.stateDetail);
  assign("snapshot", snapshotJson(write));
  assign("txid", write.txid);
  assign("holds_slot", write.holdsSlot ? 1 : 0);
  assign("hook_failure", write.hookFailure ? JSON.stringify(write.hookFailure) : null);
  assign("updated_at", write.at);
  const settled = write.atRest ? 1 : 0;
  if (current?.state !== write.state) assign("state", write.state);
  if (current?.settled !== settled) assign("settled", settled);
  if (current?.payment_id !== write.paymentId) assign("payment_id", write.paymentId);
  return { sets: sets.join(", "), params };
};
