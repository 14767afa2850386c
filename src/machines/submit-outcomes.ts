import type { ResultCodes } from "../domain/errors.js";

/**
 * Refusals that may hide a landing: an older Horizon answers `tx_bad_seq` for an applied
 * transaction, and `tx_too_late` says nothing of an earlier send. Only the envelope's fate,
 * looked up, tells. Shared by the payout machine and `PiNetwork`.
 */
export function needsFateCheck(codes: ResultCodes): boolean {
  return codes.transaction === "tx_bad_seq" || codes.transaction === "tx_too_late";
}
