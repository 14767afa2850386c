import type { MachineEvent } from "./durable-machine.js";

/** The journal's name of an event: `PAY`, `CANCEL`, or `<effect invoke>.done|error`. */
export function eventName(event: MachineEvent): string {
  const match = /^xstate\.(done|error)\.actor\.(.+)$/.exec(event.type);
  return match ? `${match[2]}.${match[1]}` : event.type;
}

/** A few facts about a payout's step for the journal: ids, outcomes, codes; never a payload. */
export function payoutJournalDetails(event: MachineEvent): Record<string, unknown> {
  if (event.error) {
    const error = event.error as { code?: string; message?: string; retryable?: boolean };
    return { code: error.code, message: error.message, retryable: error.retryable };
  }
  const output = (event.output ?? {}) as Record<string, unknown>;
  const details: Record<string, unknown> = {};
  const payment = output.payment as { identifier?: string } | null | undefined;
  if (payment !== undefined) details.paymentId = payment?.identifier ?? null;
  if (output.adopted === true) details.adopted = true;
  if (Array.isArray(output.cancelledStrays)) details.cancelledStrays = output.cancelledStrays;
  // Transactions with the payment's memo that are not its own: noted, never taken as it.
  if (Array.isArray(output.ignored) && output.ignored.length > 0) details.ignored = output.ignored;
  const transaction = output.transaction as
    | { txid?: string; sequence?: string; maxTime?: number; ledger?: number }
    | undefined;
  if (transaction?.txid) {
    details.txid = transaction.txid;
    if (transaction.sequence !== undefined) details.sequence = transaction.sequence;
    if (transaction.maxTime !== undefined) details.maxTime = transaction.maxTime;
  }
  for (const field of ["status", "txid", "ledger", "reason", "usedBy", "resultCodes"] as const) {
    if (output[field] !== undefined) details[field] = output[field];
  }
  return details;
}
