import type { ResultCodes } from "../domain/errors.js";
import { type FailureCode, failureReasons } from "../domain/failure-reasons.js";
import type { EffectError, PayoutFailure } from "./types.js";

/** The blocker of an `ongoing_payment_found` carries no key of ours: a person must decide. */
export const FOREIGN_ONGOING_PAYMENT = "FOREIGN_ONGOING_PAYMENT";

/** The failure reason for a chain refusal, named for the person who must act. */
export function chainFailureCode(codes: ResultCodes): string {
  const op = codes.operations?.find((code) => code !== "op_success");
  if (op === "op_underfunded" || codes.transaction === "tx_insufficient_balance")
    return "INSUFFICIENT_FUNDS";
  if (op === "op_no_destination") return "DESTINATION_MISSING";
  if (codes.transaction === "tx_bad_auth" || codes.transaction === "tx_bad_auth_extra")
    return "WALLET_SIGNATURE_REFUSED";
  if (codes.transaction === "tx_insufficient_fee") return "FEE_TOO_LOW";
  return "TRANSACTION_REJECTED";
}

/** The message of a failure reason the machine names. */
export function failureMessage(code: string): string | undefined {
  if (!Object.hasOwn(failureReasons, code)) return undefined;
  const reason = failureReasons[code as FailureCode];
  return `${reason.meaning} ${reason.action}`;
}

/** Why a payout stops for a person, with the message a person reads. */
export function payoutFailure(
  code: string,
  error: EffectError | undefined,
  at: number,
  where: { resumeFrom: PayoutFailure["resumeFrom"]; paymentOpen: boolean },
): PayoutFailure {
  return {
    code,
    message: failureMessage(code) ?? error?.message ?? code,
    at,
    resumeFrom: where.resumeFrom,
    paymentOpen: where.paymentOpen,
    error,
  };
}

/** The reason a payout stops when Pi refuses to complete its landed transaction. */
export function completionFailureCode(errorCode: string): string {
  if (errorCode === "PI_CANCELLED_PAYMENT") return "PAID_BUT_PAYMENT_CANCELLED";
  if (errorCode === "PI_NOT_VERIFIED") return "NOT_VERIFIED";
  if (errorCode === "PI_TXID_MISMATCH" || errorCode === "PI_ALREADY_COMPLETED")
    return "TXID_MISMATCH";
  return errorCode;
}

/**
 * Whether Pi still holds the payment open after refusing to complete it: not once it
 * cancelled it, nor once it completed it with another transaction (a person reconciles).
 */
export function paymentStaysOpen(errorCode: string): boolean {
  return errorCode !== "PI_CANCELLED_PAYMENT" && errorCode !== "PI_ALREADY_COMPLETED";
}

/** The reason a payout stops when creating its Pi payment is refused. */
export function creationFailureCode(errorCode: string): string {
  return errorCode === "PI_ONGOING_PAYMENT_FOUND" ? FOREIGN_ONGOING_PAYMENT : errorCode;
}
