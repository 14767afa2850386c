import type { ErrorCode } from "./error-catalog.js";
import type { PaymentDTO } from "./payment-dto.js";

/** The serialised form of an error, as stored in snapshots and the journal. */
export interface SerializedError {
  name: string;
  code: string;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
  cause?: { name: string; message: string };
}

/** Options shared by every error of this library. */
export interface PiPaymentsErrorOptions {
  code: ErrorCode;
  retryable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

/**
 * The base class of every error this library throws.
 *
 * `code` is stable UPPER_SNAKE and safe to branch on; `retryable` says whether the same
 * call may succeed later unchanged. Errors end up in stored snapshots, so `toJSON()` keeps
 * only plain data: never a request, a header or a secret.
 */
export class PiPaymentsError extends Error {
  override readonly name: string = "PiPaymentsError";
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: PiPaymentsErrorOptions) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: sanitizeCause(options.cause) },
    );
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  /** Plain, secret-free data, as stored in snapshots and the journal. */

  toJSON(): SerializedError {
    const json: SerializedError = {
      name: this.name,
      code: this.code,
      message: this.message,
      retryable: this.retryable,
    };
    if (this.details !== undefined) json.details = this.details;
    if (this.cause instanceof Error)
      json.cause = { name: this.cause.name, message: this.cause.message };
    return json;
  }
}

/**
 * Causes are kept as a bare `Error` with name and message only: the originals (ky's
 * HTTPError, axios errors) hold the request and its `Authorization` header, which would
 * leak the API key into any log that prints the error with its cause.
 */
function sanitizeCause(cause: unknown): Error {
  if (cause instanceof PiPaymentsError) return cause;
  const plain = new Error(cause instanceof Error ? cause.message : String(cause));
  plain.name = cause instanceof Error ? cause.name : "Error";
  plain.stack = `${plain.name}: ${plain.message}`;
  return plain;
}

/** One problem found while validating input. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Bad input, found before anything was sent. Fix the input; retrying it unchanged cannot help. */
export class ValidationError extends PiPaymentsError {
  override readonly name: string = "ValidationError";
  readonly issues: readonly ValidationIssue[];

  constructor(
    message: string,
    issues: readonly ValidationIssue[],
    code: ErrorCode = "VALIDATION_FAILED",
  ) {
    super(message, { code, details: { issues } });
    this.issues = issues;
  }
}

/** Options of a {@link PiApiError}. */
export interface PiApiErrorOptions {
  /** HTTP status; absent when no answer arrived (network failure, timeout). */
  status?: number | undefined;
  /** Pi's own `error` code, such as `ongoing_payment_found`. */
  piCode?: string | undefined;
  piMessage?: string | undefined;
  payment?: PaymentDTO | undefined;
  verificationError?: string | undefined;
  method: string;
  path: string;
  retryable: boolean;
  /** True when the request may have been applied by Pi although no answer says so. */
  outcomeUnknown: boolean;
  cause?: unknown;
}

/** The Pi Platform API refused a call, failed, or could not be reached. */
export class PiApiError extends PiPaymentsError {
  override readonly name: string = "PiApiError";
  readonly status: number | undefined;
  readonly piCode: string | undefined;
  readonly piMessage: string | undefined;
  /** The payment Pi sent with the error: the blocking one for `ongoing_payment_found`. */
  readonly payment: PaymentDTO | undefined;
  readonly verificationError: string | undefined;
  readonly method: string;
  readonly path: string;
  readonly outcomeUnknown: boolean;

  constructor(message: string, code: ErrorCode, options: PiApiErrorOptions) {
    super(message, {
      code,
      retryable: options.retryable,
      cause: options.cause,
      details: compact({
        status: options.status,
        piCode: options.piCode,
        piMessage: options.piMessage,
        verificationError: options.verificationError,
        paymentId: options.payment?.identifier,
        method: options.method,
        path: options.path,
        outcomeUnknown: options.outcomeUnknown,
      }),
    });
    this.status = options.status;
    this.piCode = options.piCode;
    this.piMessage = options.piMessage;
    this.payment = options.payment;
    this.verificationError = options.verificationError;
    this.method = options.method;
    this.path = options.path;
    this.outcomeUnknown = options.outcomeUnknown;
  }
}

/**
 * Pi refused to create a payment because another one of this app is still incomplete.
 * `payment` is the blocking payment: complete or cancel it, or let `recover()` adopt it.
 */
export class OngoingPaymentError extends PiApiError {
  override readonly name: string = "OngoingPaymentError";
}

/** Horizon's result codes for a refused or failed transaction. */
export interface ResultCodes {
  transaction: string;
  operations?: string[] | undefined;
}

/** Options of a {@link ChainError}. */
export interface ChainErrorOptions {
  status?: number | undefined;
  resultCodes?: ResultCodes | undefined;
  /** The transaction concerned, once one was signed. */
  txid?: string | undefined;
  /** True when the call is safe to repeat as is. */
  retryable?: boolean;
  /** True when an envelope may have been sent and nobody can tell yet whether it landed. */
  outcomeUnknown?: boolean;
  cause?: unknown;
}

/**
 * The Pi blockchain (Horizon) refused a transaction, failed, or could not be reached.
 * With `outcomeUnknown`, the transaction `txid` may still land: look it up (or repeat the
 * call, when `retryable`) before doing anything else.
 */
export class ChainError extends PiPaymentsError {
  override readonly name: string = "ChainError";
  readonly status: number | undefined;
  readonly resultCodes: ResultCodes | undefined;
  readonly txid: string | undefined;
  readonly outcomeUnknown: boolean;

  constructor(message: string, code: ErrorCode, options: ChainErrorOptions) {
    super(message, {
      code,
      retryable: options.retryable ?? false,
      cause: options.cause,
      details: compact({
        status: options.status,
        resultCodes: options.resultCodes,
        txid: options.txid,
        outcomeUnknown: options.outcomeUnknown || undefined,
      }),
    });
    this.status = options.status;
    this.resultCodes = options.resultCodes;
    this.txid = options.txid;
    this.outcomeUnknown = options.outcomeUnknown ?? false;
  }
}

/** One field where the payment Pi returned differs from what was asked. */
export interface PaymentMismatch {
  field: string;
  expected: unknown;
  actual: unknown;
}

/**
 * The payment Pi returned does not match the intent (DESIGN P5). Nothing was signed.
 * `mismatches` names every differing field.
 */
export class PaymentMismatchError extends PiPaymentsError {
  override readonly name: string = "PaymentMismatchError";
  readonly paymentId: string;
  readonly mismatches: readonly PaymentMismatch[];

  constructor(paymentId: string, mismatches: readonly PaymentMismatch[]) {
    const fields = mismatches.map((m) => m.field).join(", ");
    super(
      `Refusing to sign payment ${paymentId}: it differs from what was asked in ${fields}. Nothing was signed; check the payment on Pi before doing anything else.`,
      { code: "PAYMENT_MISMATCH", details: { paymentId, mismatches } },
    );
    this.paymentId = paymentId;
    this.mismatches = mismatches;
  }
}

/** A storage adapter failed. */
export class StorageError extends PiPaymentsError {
  override readonly name: string = "StorageError";
}

/** A compare-and-set save lost: someone else saved this payout first, or our lease ended. */
export class ConflictError extends StorageError {
  override readonly name: string = "ConflictError";
  constructor(message: string, details?: Record<string, unknown>) {
    super(
      message,
      details === undefined ? { code: "STORAGE_CONFLICT" } : { code: "STORAGE_CONFLICT", details },
    );
  }
}

/** No payout with that key (or payment id) is stored, or no dead letter with that id. */
export class NotFoundError extends StorageError {
  override readonly name: string = "NotFoundError";
  constructor(message: string, code: ErrorCode = "PAYOUT_NOT_FOUND") {
    super(message, { code });
  }
}

/** An operation that the payout's current state does not allow (e.g. cancelling once paid). */
export class LifecycleError extends PiPaymentsError {
  override readonly name: string = "LifecycleError";
}

/** The library was configured or called in a way it cannot work with. */
export class ConfigurationError extends PiPaymentsError {
  override readonly name: string = "ConfigurationError";
  constructor(message: string, code: ErrorCode = "INVALID_CONFIGURATION") {
    super(message, { code });
  }
}

/**
 * A webhook request that `verifyWebhook` refuses: a malformed signature header, no signature
 * matching the body, a timestamp outside the tolerance, or a signed body that is not JSON.
 * Answer it with a 4xx and do not act on the body. The message never holds the secret.
 */
export class WebhookVerificationError extends PiPaymentsError {
  override readonly name: string = "WebhookVerificationError";
  constructor(message: string, code: ErrorCode, details?: Record<string, unknown>) {
    super(message, details === undefined ? { code } : { code, details });
  }
}

const errorNames = new Set([
  "PiPaymentsError",
  "ValidationError",
  "PiApiError",
  "OngoingPaymentError",
  "ChainError",
  "PaymentMismatchError",
  "StorageError",
  "ConflictError",
  "NotFoundError",
  "LifecycleError",
  "ConfigurationError",
  "WebhookVerificationError",
]);

/** True for any error of this library, also across two copies of the package. */
export function isPiPaymentsError(error: unknown): error is PiPaymentsError {
  if (error instanceof PiPaymentsError) return true;
  return (
    error instanceof Error &&
    errorNames.has(error.name) &&
    typeof (error as { code?: unknown }).code === "string"
  );
}

function guardFor<T extends PiPaymentsError>(
  name: string,
  cls: abstract new (...args: never[]) => T,
) {
  return (error: unknown): error is T =>
    error instanceof cls || (isPiPaymentsError(error) && error.name === name);
}

/** True for a {@link ValidationError}. */
export const isValidationError = guardFor("ValidationError", ValidationError);
/** True for a {@link PiApiError} (and so for an {@link OngoingPaymentError}). */
export const isPiApiError = (error: unknown): error is PiApiError =>
  error instanceof PiApiError ||
  (isPiPaymentsError(error) &&
    (error.name === "PiApiError" || error.name === "OngoingPaymentError"));
/** True for an {@link OngoingPaymentError}. */
export const isOngoingPaymentError = guardFor("OngoingPaymentError", OngoingPaymentError);
/** True for a {@link ChainError}. */
export const isChainError = guardFor("ChainError", ChainError);
/** True for a {@link PaymentMismatchError}. */
export const isPaymentMismatchError = guardFor("PaymentMismatchError", PaymentMismatchError);
/** True for a {@link ConflictError}. */
export const isConflictError = guardFor("ConflictError", ConflictError);
/** True for a {@link NotFoundError}. */
export const isNotFoundError = guardFor("NotFoundError", NotFoundError);
/** True for a {@link WebhookVerificationError}. */
export const isWebhookVerificationError = guardFor(
  "WebhookVerificationError",
  WebhookVerificationError,
);

/**
 * A message made ready to be part of another sentence: without its final full stops and
 * spaces. Pi's messages end with a full stop ("No such endpoint."), and so do ours: joining
 * one into a sentence that adds its own would print "..".
 *
 * @example
 * `Pi refused the call: ${clause(piMessage)}.`
 */
export function clause(message: string): string {
  return message.replace(/[.\s]+$/, "");
}

/**
 * A message's first sentence, as a {@link clause}: what happened, without the advice that
 * follows it (for one-line reports such as `pi-payments doctor` and `pay`'s retries).
 */
export function headline(message: string): string {
  return clause(/^.*?[.!?](?=\s|$)/.exec(message)?.[0] ?? message);
}

/** Any thrown value as plain, secret-free data for a snapshot or the journal. */
export function serializeError(error: unknown): SerializedError {
  if (isPiPaymentsError(error)) return error.toJSON();
  if (error instanceof Error) {
    return { name: error.name, code: "UNEXPECTED_ERROR", message: error.message, retryable: false };
  }
  return { name: "Error", code: "UNEXPECTED_ERROR", message: String(error), retryable: false };
}

function compact(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
