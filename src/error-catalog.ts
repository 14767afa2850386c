import { piErrorCodes } from "./adapters/map-pi-error.js";
import { failureReasons } from "./machines/classify.js";

/** One error code of this library: where it comes from, what it means, what to do. */
export interface ErrorCodeInfo {
  code: string;
  /** The error class that carries it, or `payout.failure` for the reasons a payout stops with. */
  source: string;
  meaning: string;
  action: string;
  retryable: boolean;
}

const entry = (
  code: string,
  source: string,
  meaning: string,
  action: string,
  retryable = false,
): ErrorCodeInfo => ({
  code,
  source,
  meaning,
  action,
  retryable,
});

/**
 * Every error code, in one place: the README's errors table is generated from it, and a
 * test checks that the code throws nothing missing from it.
 */
export const errorCatalog: readonly ErrorCodeInfo[] = [
  // Input and configuration: nothing was sent.
  entry(
    "VALIDATION_FAILED",
    "ValidationError",
    "An argument is missing, of the wrong type, or unknown.",
    "Fix the fields named in `issues`.",
  ),
  entry(
    "INVALID_AMOUNT",
    "ValidationError",
    "The amount is not a plain decimal > 0 with at most 7 decimals.",
    'Pass a string like "3.14" (or an exact number).',
  ),
  entry(
    "INVALID_METADATA",
    "ValidationError",
    "metadata is not a plain JSON object (or uses the reserved field pi_payments_key).",
    "Pass a plain object of JSON values.",
  ),
  entry(
    "INVALID_PAYMENT_ID",
    "ValidationError",
    "A payment id that is not Pi's letters and digits.",
    "Pass the identifier Pi returned.",
  ),
  entry(
    "INVALID_TXID",
    "ValidationError",
    "A txid that is not 64 hex digits.",
    "Pass the transaction hash.",
  ),
  entry(
    "INVALID_ACCESS_TOKEN",
    "ValidationError",
    "me() was called without a user's access token.",
    "Pass the token the Pi SDK gave the frontend.",
  ),
  entry(
    "INVALID_OPTIONS",
    "ValidationError",
    "An option of a factory is missing, malformed or unknown (the message never repeats a secret).",
    "Fix the option named.",
  ),
  entry(
    "KEY_REUSED",
    "ValidationError",
    "A payout key was used before with different arguments.",
    "Use a new key for a new payout.",
  ),
  entry(
    "INVALID_CONFIGURATION",
    "ConfigurationError",
    "The library was set up in a way it cannot work with.",
    "Read the message.",
  ),
  entry(
    "NOT_INITIALIZED",
    "ConfigurationError",
    "PiNetwork was used before initialize().",
    "Pass options to the constructor or call initialize().",
  ),
  entry(
    "MISSING_API_KEY",
    "ConfigurationError",
    "PI_API_KEY is not set (command line).",
    "Export your app's server API key.",
  ),
  entry(
    "MISSING_WALLET_SEED",
    "ConfigurationError",
    "PI_WALLET_SEED is not set (command line).",
    "Export your app wallet's secret seed.",
  ),
  entry(
    "INVALID_WALLET_SEED",
    "ConfigurationError",
    "PI_WALLET_SEED is not a secret seed (command line).",
    "Export the 56-character seed starting with S.",
  ),
  entry(
    "INVALID_CHANNEL_SEEDS",
    "ConfigurationError",
    "An entry of PI_CHANNEL_SEEDS is not a secret seed (command line).",
    "Give comma-separated 56-character seeds starting with S, or unset it.",
  ),
  entry(
    "INVALID_NETWORK",
    "ConfigurationError",
    'PI_NETWORK is not "Pi Network" or "Pi Testnet".',
    "Fix PI_NETWORK or --network.",
  ),
  entry(
    "INVALID_URL",
    "ConfigurationError",
    "PI_API_URL or PI_HORIZON_URL is not an http(s) URL.",
    "Fix the variable named.",
  ),
  // Pi Platform API.
  entry(
    "PI_UNREACHABLE",
    "PiApiError",
    "Pi did not answer (network, timeout). A write may have been applied.",
    "Retry later; pay() does, and looks before repeating a create.",
    true,
  ),
  entry(
    "PI_UNAUTHORIZED",
    "PiApiError",
    "Pi refused the API key (or a user's token).",
    "Check PI_API_KEY and its app (Mainnet or Testnet).",
  ),
  entry(
    "PI_SERVER_ERROR",
    "PiApiError",
    "Pi answered 5xx without a Pi error body (e.g. an HTML page).",
    "Retry later.",
    true,
  ),
  entry(
    "PI_HTTP_ERROR",
    "PiApiError",
    "Pi answered an unexpected 4xx without a Pi error body.",
    "Check the request; see status.",
  ),
  entry(
    "PI_BAD_RESPONSE",
    "PiApiError",
    "Pi's answer is not what the API documents; nothing was assumed from it.",
    "Report it; look at the payment on Pi.",
  ),
  entry(
    "PI_API_ERROR",
    "PiApiError",
    "Pi sent an error code this library does not know (kept in piCode).",
    "See piCode and piMessage.",
  ),
  ...Object.entries(piErrorCodes).map(([code, advice]) =>
    entry(
      `PI_${code.toUpperCase()}`,
      code === "ongoing_payment_found" ? "OngoingPaymentError" : "PiApiError",
      `Pi's \`${code}\`.`,
      advice.advice,
      advice.retryable,
    ),
  ),
  // Pi blockchain (Horizon).
  entry("HORIZON_UNREACHABLE", "ChainError", "Horizon did not answer.", "Retry later.", true),
  entry("HORIZON_SERVER_ERROR", "ChainError", "Horizon answered 5xx.", "Retry later.", true),
  entry(
    "HORIZON_NOT_FOUND",
    "ChainError",
    "Horizon found nothing where something was expected.",
    "Check the network and Horizon URL.",
  ),
  entry(
    "HORIZON_HTTP_ERROR",
    "ChainError",
    "Horizon answered a read with an HTTP error other than 404 or 5xx.",
    "Check the Horizon URL; 429 means slow down.",
  ),
  entry(
    "HORIZON_BAD_RESPONSE",
    "ChainError",
    "Horizon's answer is not what its API documents; nothing was concluded from it.",
    "Retry later; if it persists, check the Horizon URL.",
    true,
  ),
  entry(
    "HORIZON_STALE_VIEW",
    "ChainError",
    "The Horizon instance that answered had not yet ingested the ledger a decision needs (Horizon is load-balanced; instances lag).",
    "Nothing to do: it is asked again, and nothing is concluded until a fresh enough view answers.",
    true,
  ),
  entry(
    "EARLIER_ENVELOPE_MAY_LAND",
    "ChainError",
    "An adopted payment may have an envelope in flight from the process that lost it; building waits for the chain's time to pass its possible time bound.",
    "Nothing to do: it is tried again after a wait.",
    true,
  ),
  entry(
    "HISTORY_SEARCH_INCOMPLETE",
    "ChainError",
    "A search of the wallet's history for a payment's transaction, or for the one that used a sequence number, ran out of pages before it could prove its answer.",
    "Nothing was concluded or built. Raise historyMaxPages (createPiChain) if the wallet is that busy.",
    true,
  ),
  entry(
    "WRONG_NETWORK",
    "ChainError",
    "The Horizon URL serves another network than the one configured.",
    "Match network and Horizon URL (Mainnet vs Testnet).",
  ),
  entry(
    "ACCOUNT_NOT_FOUND",
    "ChainError",
    "The app wallet does not exist on this network.",
    "Fund (activate) the wallet, or fix the seed or network.",
  ),
  entry(
    "MEMO_TOO_LONG",
    "ChainError",
    "A payment id longer than a text memo (28 bytes).",
    "Report it: Pi's ids are 28 characters.",
  ),
  entry(
    "INVALID_DESTINATION",
    "ChainError",
    "Pi named a recipient that is not a wallet address.",
    "Nothing was signed; look at the payment on Pi.",
  ),
  entry(
    "SUBMISSION_ABANDONED",
    "ChainError",
    "PiNetwork.submitPayment saw several envelopes in a row die unlanded. Nothing was paid.",
    "Retry later.",
    true,
  ),
  entry(
    "TX_* / OP_*",
    "ChainError",
    "Horizon refused the transaction with these result codes (e.g. OP_UNDERFUNDED, TX_BAD_AUTH).",
    "See resultCodes; for OP_UNDERFUNDED top the wallet up.",
  ),
  // The payment check (P5).
  entry(
    "PAYMENT_MISMATCH",
    "PaymentMismatchError / payout.failure",
    "The payment Pi returned differs from what was asked; nothing was signed.",
    "Look at `mismatches`; the payout cancelled the payment.",
  ),
  // Storage and lifecycle.
  entry(
    "STORAGE_CONFLICT",
    "ConflictError",
    "Someone else saved this payout first, or this process lost its lease.",
    "Nothing to do: the other runner goes on.",
  ),
  entry(
    "PAYOUT_NOT_FOUND",
    "NotFoundError",
    "No payout with that key (or payment id).",
    "Check the key and the store.",
  ),
  entry(
    "STORAGE_UNAVAILABLE",
    "StorageError",
    "The store cannot be opened or reached.",
    "Check the path or URL and the database.",
    true,
  ),
  entry(
    "CANCEL_TOO_LATE",
    "LifecycleError",
    "The payout's transaction is in a ledger: the user is paid.",
    "Nothing to cancel; it completes.",
  ),
  entry(
    "CANCEL_UNSAFE",
    "LifecycleError",
    "PiNetwork.cancelPayment while a transaction it sent for the payment may still land.",
    "See the submission through (submitPayment), or cancel once its time bound has passed.",
    true,
  ),
  entry(
    "NOT_FAILED",
    "LifecycleError",
    "retry() of a payout that has not failed.",
    "Only failed payouts are retried.",
  ),
  entry(
    "PAYOUT_BUSY",
    "LifecycleError",
    "Another process drives this payout.",
    "Cancel or retry there, or once it stops.",
  ),
  entry("CLOSED", "PiPaymentsError", "The payouts runtime was closed.", "Create a new one."),
  entry(
    "ONGOING_PAYMENT_UNSEEN",
    "payout.lastError",
    "Pi refused a create for an incomplete payment it did not name readably and does not list.",
    "Nothing to do: the payout tries again.",
    true,
  ),
  entry(
    "UNEXPECTED_ERROR",
    "any",
    "An error that is not this library's, kept as plain data in a snapshot.",
    "Read the message.",
  ),
  // Why a payout stopped (payout.failure.code); any code above can also appear there.
  ...Object.entries(failureReasons)
    .filter(([code]) => code !== "PAYMENT_MISMATCH")
    .map(([code, reason]) => entry(code, "payout.failure", reason.meaning, reason.action)),
];

/** What an error code means and what to do about it, or undefined for an unknown code. */
export function explainError(code: string): ErrorCodeInfo | undefined {
  return (
    errorCatalog.find((info) => info.code === code) ??
    (/^(TX|OP)_/.test(code) ? errorCatalog.find((info) => info.code === "TX_* / OP_*") : undefined)
  );
}
