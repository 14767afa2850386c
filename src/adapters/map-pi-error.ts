import { OngoingPaymentError, PiApiError } from "../domain/errors.js";
import { type PaymentDTO, paymentDtoSchema, piErrorBodySchema } from "../domain/payment-dto.js";

/** What a Pi error code means for a caller: may it retry, and what to do. */
export interface PiCodeAdvice {
  retryable: boolean;
  advice: string;
}

/**
 * Every error code Pi is known to send (PI-PLATFORM.md §1), with what to do about it.
 * Our error `code` is `PI_` + Pi's code in upper case; Pi's own stays in `piCode`.
 */
export const piErrorCodes: Record<string, PiCodeAdvice> = {
  payment_not_found: {
    retryable: false,
    advice: "Check the payment id; it belongs to another app or does not exist.",
  },
  invalid_amount: {
    retryable: false,
    advice: "Pi refused the amount: it must be positive with at most 7 decimals.",
  },
  invalid_arguments: {
    retryable: false,
    advice: "Pi refused the request's fields; check memo, uid and metadata.",
  },
  invalid_metadata: { retryable: false, advice: "metadata must be a JSON object." },
  unknown_error: { retryable: true, advice: "Pi failed internally; retry later." },
  ongoing_payment_found: {
    retryable: false,
    advice:
      "Another payment of this app is incomplete (see error.payment): complete or cancel it, or run recover().",
  },
  user_not_found: {
    retryable: false,
    advice: "This uid has not used your app (or belongs to another app's users).",
  },
  missing_scope: {
    retryable: false,
    advice: "The user has not granted the payments scope; ask them to sign in again.",
  },
  missing_wallet: {
    retryable: false,
    advice: "The user has no Pi wallet yet; they must create one first.",
  },
  invalid_address: {
    retryable: false,
    advice: "The user's wallet address is invalid on Pi's side; contact Pi support.",
  },
  altered_amount: {
    retryable: false,
    advice: "The amount changed between the steps of the payment; start again.",
  },
  too_many_payments: {
    retryable: true,
    advice: "Pi is limiting how many payments your app creates; slow down and retry later.",
  },
  too_many_cancelled_payments: {
    retryable: false,
    advice:
      "Pi limits cancellations; stop cancelling and recreating payments, and complete the open ones.",
  },
  already_completed: {
    retryable: false,
    advice: "The payment is already completed; nothing to do.",
  },
  cancelled_payment: {
    retryable: false,
    advice: "The payment was cancelled; create a new one if the payout is still owed.",
  },
  missing_txid: { retryable: false, advice: "Completing needs the transaction id (txid)." },
  txid_mismatch: {
    retryable: false,
    advice: "Pi linked another transaction to this payment; look it up before doing anything else.",
  },
  not_verified: {
    retryable: true,
    advice: "Pi has not seen or verified the transaction yet; retry in a few seconds.",
  },
  verification_failed: {
    retryable: false,
    advice:
      "The transaction does not match the payment (see verificationError); the payment needs a person.",
  },
  payment_tx_present: {
    retryable: false,
    advice:
      "A transaction is linked to the payment, so it cannot be cancelled; complete it instead.",
  },
  forbidden: { retryable: false, advice: "Pi does not allow this call for this payment." },
};

/** What came back from one HTTP call to Pi (or did not). */
export interface PiHttpFailure {
  method: string;
  path: string;
  /** Undefined when no answer arrived. */
  status?: number | undefined;
  /** The raw body text, when there was one. */
  body?: string | undefined;
  cause?: unknown;
  timedOut?: boolean;
  /**
   * Whether repeating the request is safe whatever happened to this one (reads, and the
   * writes Pi answers idempotently). Creating a payment is not: repeating it after an
   * unknown outcome may make a second payment. @default true
   */
  idempotent?: boolean;
}

/**
 * Turns a failed Pi call into a typed error. The single place that reads Pi's error
 * bodies, with a fallback for what it does not recognise (HTML pages, unknown codes).
 */
export function mapPiError(failure: PiHttpFailure): PiApiError {
  const { method, path, status } = failure;
  const write = method !== "GET";
  const idempotent = failure.idempotent ?? true;
  const base = { method, path, status, cause: failure.cause };

  if (status === undefined) {
    const what = failure.timedOut ? "did not answer in time" : "could not be reached";
    return new PiApiError(
      `Pi ${what} (${method} ${path}).${unknownAdvice(write, idempotent)}`,
      "PI_UNREACHABLE",
      { ...base, retryable: idempotent, outcomeUnknown: write },
    );
  }

  const parsed = parseJson(failure.body);
  const errorBody = piErrorBodySchema.safeParse(parsed);
  if (status === 401) {
    return new PiApiError(
      "Pi refused the credentials (401). Check the API key (PI_API_KEY) or the user's access token.",
      "PI_UNAUTHORIZED",
      {
        ...base,
        piCode: errorBody.success ? errorBody.data.error : undefined,
        retryable: false,
        outcomeUnknown: false,
      },
    );
  }
  if (!errorBody.success) {
    // Without Pi's error body nothing says the write was refused: it may have been applied
    // (DESIGN P2b), whatever the status.
    const server = status >= 500;
    return new PiApiError(
      `Pi answered ${status} without a Pi error body (${method} ${path}).${server || write ? unknownAdvice(write, idempotent) : ""}`,
      server ? "PI_SERVER_ERROR" : "PI_HTTP_ERROR",
      { ...base, retryable: (server || write) && idempotent, outcomeUnknown: write },
    );
  }

  const {
    error: piCode,
    error_message: piMessage,
    verification_error: verificationError,
  } = errorBody.data;
  const payment = paymentOf(errorBody.data.payment);
  const known = piErrorCodes[piCode];
  const retryable = (known?.retryable ?? status >= 500) && (idempotent || status < 500);
  const options = {
    ...base,
    piCode,
    piMessage,
    payment,
    verificationError,
    retryable,
    outcomeUnknown: status >= 500 && write,
  };
  const detail = `${(piMessage ?? piCode).replace(/[.\s]+$/, "")}${verificationError ? ` (${verificationError})` : ""}`;
  // A 5xx may have been applied: what to do depends on whether repeating the call is safe.
  const advice =
    status >= 500 && write
      ? unknownAdvice(write, idempotent).trim()
      : (known?.advice ?? "See piCode and piMessage.");
  const message = `Pi refused ${method} ${path}: ${detail}. ${advice}`;
  if (piCode === "ongoing_payment_found") {
    const blocking = payment
      ? ` Blocking payment: ${payment.identifier} (${payment.amount} Pi to ${payment.user_uid}).`
      : "";
    return new OngoingPaymentError(`${message}${blocking}`, "PI_ONGOING_PAYMENT_FOUND", options);
  }
  return new PiApiError(message, known ? `PI_${piCode.toUpperCase()}` : "PI_API_ERROR", options);
}

/** What to do after a request whose outcome nobody can tell. */
export function unknownAdvice(write: boolean, idempotent: boolean): string {
  if (!write) return " Retry later.";
  if (idempotent) return " It may have been applied; repeating it is safe.";
  return " It may have been applied: look before repeating it (a payment: in incomplete_server_payments).";
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function paymentOf(value: unknown): PaymentDTO | undefined {
  const parsed = paymentDtoSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}
