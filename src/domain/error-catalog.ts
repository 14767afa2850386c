import { type ErrorCodeRow, ownErrorCodes } from "./error-codes.js";
import { type FailureCode, failureReasons } from "./failure-reasons.js";
import { type PiCode, type PiErrorCode, piErrorCode, piErrorCodes } from "./pi-error-codes.js";

/** A chain refusal's result code, as Horizon names it, in upper case (`OP_UNDERFUNDED`). */
export type ChainResultCode = `TX_${Uppercase<string>}` | `OP_${Uppercase<string>}`;

/**
 * Every code an error of this library (or a stopped payout's `failure.code`) can carry:
 * derived from the tables, so a code missing from them does not compile.
 */
export type ErrorCode =
  | Exclude<keyof typeof ownErrorCodes, "TX_* / OP_*">
  | PiErrorCode
  | FailureCode
  | ChainResultCode;

/** One error code of this library: where it comes from, what it means, what to do. */
export interface ErrorCodeInfo extends ErrorCodeRow {
  /** The code, or the pattern `TX_* / OP_*` for the chain's result codes. */
  readonly code: string;
}

const rows = <K extends string>(table: Record<K, ErrorCodeRow>): ErrorCodeInfo[] =>
  (Object.entries(table) as [K, ErrorCodeRow][]).map(([code, row]) => ({ code, ...row }));

/**
 * Every error code, in one list derived from the typed tables: the README's errors table is
 * generated from it, and a test checks that the code throws nothing missing from it.
 */
export const errorCatalog: readonly ErrorCodeInfo[] = [
  ...rows(ownErrorCodes),
  ...(Object.entries(piErrorCodes) as [PiCode, (typeof piErrorCodes)[PiCode]][]).map(
    ([code, advice]): ErrorCodeInfo => ({
      code: piErrorCode(code),
      source: code === "ongoing_payment_found" ? "OngoingPaymentError" : "PiApiError",
      meaning: `Pi's \`${code}\`.`,
      action: advice.advice,
      retryable: advice.retryable,
    }),
  ),
  // Why a payout stopped (payout.failure.code); any code above can also appear there.
  ...(Object.entries(failureReasons) as [FailureCode, { meaning: string; action: string }][])
    .filter(([code]) => !Object.hasOwn(ownErrorCodes, code))
    .map(
      ([code, reason]): ErrorCodeInfo => ({
        code,
        source: "payout.failure",
        meaning: reason.meaning,
        action: reason.action,
        retryable: false,
      }),
    ),
];

/** What an error code means and what to do about it, or undefined for an unknown code. */
export function explainError(code: string): ErrorCodeInfo | undefined {
  return (
    errorCatalog.find((info) => info.code === code) ??
    (/^(TX|OP)_/.test(code) ? errorCatalog.find((info) => info.code === "TX_* / OP_*") : undefined)
  );
}
