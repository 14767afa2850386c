import { OngoingPaymentError, PiApiError } from "../domain/errors.js";
import { type PaymentDTO, paymentDtoSchema, piErrorBodySchema } from "../domain/payment-dto.js";
import { isKnownPiCode, piErrorCode, piErrorCodes } from "../domain/pi-error-codes.js";

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
  const known = isKnownPiCode(piCode) ? piErrorCodes[piCode] : undefined;
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
  return new PiApiError(
    message,
    isKnownPiCode(piCode) ? piErrorCode(piCode) : "PI_API_ERROR",
    options,
  );
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
