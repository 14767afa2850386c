import { webhookErrorCodes } from "./webhook-error-codes.js";

/** What one error code means: where it comes from, what it means, what to do. */
export interface ErrorCodeRow {
  /** The error class that carries it (`ValidationError`, `ChainError`, …). */
  readonly source: string;
  readonly meaning: string;
  readonly action: string;
  readonly retryable: boolean;
}

/**
 * The error codes this library raises itself, in one typed table: `ErrorCode` is derived
 * from its keys (so an error built with a code not listed here does not compile), and the
 * catalogue and the README's errors table are generated from it. Pi's codes live in
 * pi-error-codes.ts and the reasons a payout stops in failure-reasons.ts.
 */
export const ownErrorCodes = {
  // Input and configuration: nothing was sent.
  VALIDATION_FAILED: {
    source: "ValidationError",
    meaning: "An argument is missing, of the wrong type, or unknown.",
    action: "Fix the fields named in `issues`.",
    retryable: false,
  },
  INVALID_AMOUNT: {
    source: "ValidationError",
    meaning: "The amount is not a plain decimal > 0 with at most 7 decimals.",
    action: 'Pass a string like "3.14" (or an exact number).',
    retryable: false,
  },
  INVALID_METADATA: {
    source: "ValidationError",
    meaning: "metadata is not a plain JSON object (or uses the reserved field pi_payments_key).",
    action: "Pass a plain object of JSON values.",
    retryable: false,
  },
  INVALID_PAYMENT_ID: {
    source: "ValidationError",
    meaning: "A payment id that is not Pi's letters and digits.",
    action: "Pass the identifier Pi returned.",
    retryable: false,
  },
  INVALID_TXID: {
    source: "ValidationError",
    meaning: "A txid that is not 64 hex digits.",
    action: "Pass the transaction hash.",
    retryable: false,
  },
  INVALID_ACCESS_TOKEN: {
    source: "ValidationError",
    meaning: "me() was called without a user's access token.",
    action: "Pass the token the Pi SDK gave the frontend.",
    retryable: false,
  },
  INVALID_OPTIONS: {
    source: "ValidationError",
    meaning:
      "An option of a factory is missing, malformed or unknown (the message never repeats a secret).",
    action: "Fix the option named.",
    retryable: false,
  },
  KEY_REUSED: {
    source: "ValidationError",
    meaning: "A payout key was used before with different arguments.",
    action: "Use a new key for a new payout.",
    retryable: false,
  },
  INVALID_CONFIGURATION: {
    source: "ConfigurationError",
    meaning: "The library was set up in a way it cannot work with.",
    action: "Read the message.",
    retryable: false,
  },
  NOT_INITIALIZED: {
    source: "ConfigurationError",
    meaning: "PiNetwork was used before initialize().",
    action: "Pass options to the constructor or call initialize().",
    retryable: false,
  },
  MISSING_API_KEY: {
    source: "ConfigurationError",
    meaning: "PI_API_KEY is not set (command line).",
    action: "Export your app's server API key.",
    retryable: false,
  },
  MISSING_WALLET_SEED: {
    source: "ConfigurationError",
    meaning: "PI_WALLET_SEED is not set (command line).",
    action: "Export your app wallet's secret seed.",
    retryable: false,
  },
  INVALID_WALLET_SEED: {
    source: "ConfigurationError",
    meaning: "PI_WALLET_SEED is not a secret seed (command line).",
    action: "Export the 56-character seed starting with S.",
    retryable: false,
  },
  INVALID_CHANNEL_SEEDS: {
    source: "ConfigurationError",
    meaning: "An entry of PI_CHANNEL_SEEDS is not a secret seed (command line).",
    action: "Give comma-separated 56-character seeds starting with S, or unset it.",
    retryable: false,
  },
  INVALID_NETWORK: {
    source: "ConfigurationError",
    meaning: 'PI_NETWORK is not "Pi Network" or "Pi Testnet".',
    action: "Fix PI_NETWORK or --network.",
    retryable: false,
  },
  INVALID_URL: {
    source: "ConfigurationError",
    meaning: "PI_API_URL or PI_HORIZON_URL is not an http(s) URL.",
    action: "Fix the variable named.",
    retryable: false,
  },
  STORE_NOT_FOUND: {
    source: "ConfigurationError",
    meaning:
      "The SQLite file named by --db or PI_PAYMENTS_DB does not exist (status, list, journal, cancel, retry; doctor: its folder does not exist). Nothing was created.",
    action: "Fix the path; `pay` or `migrate` creates a new store.",
    retryable: false,
  },
  INVALID_INSPECT_PORT: {
    source: "ConfigurationError",
    meaning: "PI_PAYMENTS_INSPECT_PORT is not a port number (command line).",
    action: "Give a port, or 0 for any free one.",
    retryable: false,
  },
  INSPECTOR_UNAVAILABLE: {
    source: "PiPaymentsError",
    meaning:
      "The inspector server cannot listen on its host and port (in use, or not this machine's).",
    action: "Choose another PI_PAYMENTS_INSPECT_PORT (0: any free one) or host.",
    retryable: false,
  },
  METRICS_EXPORTER_MISSING: {
    source: "ConfigurationError",
    meaning:
      "`--metrics-port` needs OpenTelemetry's Prometheus exporter, which is an optional peer dependency and is not installed.",
    action:
      "npm install @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/exporter-prometheus (next to pi-payments), or drop --metrics-port.",
    retryable: false,
  },
  METRICS_UNAVAILABLE: {
    source: "PiPaymentsError",
    meaning:
      "The metrics server cannot listen on its host and port (in use, or not this machine's).",
    action: "Choose another --metrics-port (0: any free one) or --metrics-host.",
    retryable: false,
  },
  // Pi Platform API (Pi's own codes: pi-error-codes.ts).
  PI_UNREACHABLE: {
    source: "PiApiError",
    meaning: "Pi did not answer (network, timeout). A write may have been applied.",
    action: "Retry later; pay() does, and looks before repeating a create.",
    retryable: true,
  },
  PI_UNAUTHORIZED: {
    source: "PiApiError",
    meaning: "Pi refused the API key (or a user's token).",
    action: "Check PI_API_KEY and its app (Mainnet or Testnet).",
    retryable: false,
  },
  PI_SERVER_ERROR: {
    source: "PiApiError",
    meaning: "Pi answered 5xx without a Pi error body (e.g. an HTML page).",
    action: "Retry later.",
    retryable: true,
  },
  PI_HTTP_ERROR: {
    source: "PiApiError",
    meaning: "Pi answered an unexpected 4xx without a Pi error body.",
    action: "Check the request; see status.",
    retryable: false,
  },
  PI_BAD_RESPONSE: {
    source: "PiApiError",
    meaning: "Pi's answer is not what the API documents; nothing was assumed from it.",
    action: "Report it; look at the payment on Pi.",
    retryable: false,
  },
  PI_API_ERROR: {
    source: "PiApiError",
    meaning: "Pi sent an error code this library does not know (kept in piCode).",
    action: "See piCode and piMessage.",
    retryable: false,
  },
  // Pi blockchain (Horizon).
  HORIZON_UNREACHABLE: {
    source: "ChainError",
    meaning: "Horizon did not answer.",
    action: "Retry later.",
    retryable: true,
  },
  HORIZON_SERVER_ERROR: {
    source: "ChainError",
    meaning: "Horizon answered 5xx.",
    action: "Retry later.",
    retryable: true,
  },
  HORIZON_NOT_FOUND: {
    source: "ChainError",
    meaning: "Horizon found nothing where something was expected.",
    action: "Check the network and Horizon URL.",
    retryable: false,
  },
  HORIZON_HTTP_ERROR: {
    source: "ChainError",
    meaning: "Horizon answered a read with an HTTP error other than 404 or 5xx.",
    action: "Check the Horizon URL; 429 means slow down.",
    retryable: false,
  },
  HORIZON_BAD_RESPONSE: {
    source: "ChainError",
    meaning: "Horizon's answer is not what its API documents; nothing was concluded from it.",
    action: "Retry later; if it persists, check the Horizon URL.",
    retryable: true,
  },
  HORIZON_STALE_VIEW: {
    source: "ChainError",
    meaning:
      "The Horizon instance that answered had not yet ingested the ledger a decision needs (Horizon is load-balanced; instances lag).",
    action:
      "Nothing to do: it is asked again, and nothing is concluded until a fresh enough view answers.",
    retryable: true,
  },
  EARLIER_ENVELOPE_MAY_LAND: {
    source: "ChainError",
    meaning:
      "An adopted payment may have an envelope in flight from the process that lost it; building waits for the chain's time to pass its possible time bound.",
    action: "Nothing to do: it is tried again after a wait.",
    retryable: true,
  },
  HISTORY_SEARCH_INCOMPLETE: {
    source: "ChainError",
    meaning:
      "A search of the wallet's history for a payment's transaction, or for the one that used a sequence number, ran out of pages before it could prove its answer.",
    action:
      "Nothing was concluded or built. Raise historyMaxPages (createPiChain) if the wallet is that busy.",
    retryable: true,
  },
  WRONG_NETWORK: {
    source: "ChainError",
    meaning: "The Horizon URL serves another network than the one configured.",
    action: "Match network and Horizon URL (Mainnet vs Testnet).",
    retryable: false,
  },
  ACCOUNT_NOT_FOUND: {
    source: "ChainError",
    meaning: "The app wallet does not exist on this network.",
    action: "Fund (activate) the wallet, or fix the seed or network.",
    retryable: false,
  },
  MEMO_TOO_LONG: {
    source: "ChainError",
    meaning: "A payment id longer than a text memo (28 bytes).",
    action: "Report it: Pi's ids are 28 characters.",
    retryable: false,
  },
  INVALID_DESTINATION: {
    source: "ChainError",
    meaning: "Pi named a recipient that is not a wallet address.",
    action: "Nothing was signed; look at the payment on Pi.",
    retryable: false,
  },
  SUBMISSION_ABANDONED: {
    source: "ChainError",
    meaning:
      "PiNetwork.submitPayment saw several envelopes in a row die unlanded. Nothing was paid.",
    action: "Retry later.",
    retryable: true,
  },
  "TX_* / OP_*": {
    source: "ChainError",
    meaning:
      "Horizon refused the transaction with these result codes (e.g. OP_UNDERFUNDED, TX_BAD_AUTH).",
    action: "See resultCodes; for OP_UNDERFUNDED top the wallet up.",
    retryable: false,
  },
  // The payment check (P5).
  PAYMENT_MISMATCH: {
    source: "PaymentMismatchError / payout.failure",
    meaning: "The payment Pi returned differs from what was asked; nothing was signed.",
    action: "Look at `mismatches`; the payout cancelled the payment.",
    retryable: false,
  },
  // Storage and lifecycle.
  STORAGE_CONFLICT: {
    source: "ConflictError",
    meaning: "Someone else saved this payout first, or this process lost its lease.",
    action: "Nothing to do: the other runner goes on.",
    retryable: false,
  },
  PAYOUT_NOT_FOUND: {
    source: "NotFoundError",
    meaning: "No payout with that key (or payment id).",
    action: "Check the key and the store.",
    retryable: false,
  },
  STORAGE_UNAVAILABLE: {
    source: "StorageError",
    meaning: "The store cannot be opened or reached.",
    action: "Check the path or URL and the database.",
    retryable: true,
  },
  CANCEL_TOO_LATE: {
    source: "LifecycleError",
    meaning: "The payout's transaction is in a ledger: the user is paid.",
    action: "Nothing to cancel; it completes.",
    retryable: false,
  },
  CANCEL_UNSAFE: {
    source: "LifecycleError",
    meaning: "PiNetwork.cancelPayment while a transaction it sent for the payment may still land.",
    action: "See the submission through (submitPayment), or cancel once its time bound has passed.",
    retryable: true,
  },
  NOT_FAILED: {
    source: "LifecycleError",
    meaning: "retry() of a payout that has not failed.",
    action: "Only failed payouts are retried.",
    retryable: false,
  },
  PAYOUT_BUSY: {
    source: "LifecycleError",
    meaning: "Another process drives this payout.",
    action: "Cancel or retry there, or once it stops.",
    retryable: false,
  },
  BLOCKED_BY_OWN_PAYOUT: {
    source: "PiPaymentsError",
    meaning:
      "Pi's one open payment belongs to another payout of this store; this payout waits for it (its blockedBy names that payout).",
    action: "Nothing: it goes on once that payout rests. `pi-payments status` shows the holder.",
    retryable: true,
  },
  ON_SETTLED_FAILED: {
    source: "PiPaymentsError",
    meaning:
      "The host's onSettled hook threw inside the save that brings a payout to rest: the save was rolled back (payout.hookFailure says when it is tried again).",
    action:
      "Fix the hook or what it writes to; the step is retried with backoff and never skipped.",
    retryable: true,
  },
  ON_SETTLED_ASYNC: {
    source: "PiPaymentsError",
    meaning:
      "On a SQLite store, onSettled returned a promise: what it did after its first await ran outside the transaction, so the step was refused and is not tried again for an hour (a retry would repeat that work).",
    action:
      "Make the hook synchronous (better-sqlite3 calls need no await), undo what its late work wrote if need be, and restart the runtime.",
    retryable: false,
  },
  CLOSED: {
    source: "PiPaymentsError",
    meaning: "The payouts runtime was closed.",
    action: "Create a new one.",
    retryable: false,
  },
  PAY_WAIT_ABORTED: {
    source: "PiPaymentsError",
    meaning:
      "pay() stopped waiting (its signal fired or its timeout passed); the payout goes on in the store.",
    action: "Follow it with get(key), subscribe, the events feed, or `pi-payments status <key>`.",
    retryable: false,
  },
  ONGOING_PAYMENT_UNSEEN: {
    source: "payout.lastError",
    meaning:
      "Pi refused a create for an incomplete payment it did not name readably and does not list.",
    action: "Nothing to do: the payout tries again.",
    retryable: true,
  },
  // Webhooks and dead letters: their own table.
  ...webhookErrorCodes,
  // Verdicts of checkSetup() and `pi-payments doctor` that no error above names.
  CHECK_TIMED_OUT: {
    source: "setup check",
    meaning: "A server (Pi, Horizon, the store) did not answer the check within its timeout.",
    action: "Check the URL and the network; raise `doctor --timeout` for a slow link.",
    retryable: true,
  },
  LOW_BALANCE: {
    source: "setup check",
    meaning:
      "The wallet's balance, less the reserve it must keep, pays not even one payout of 1 Pi plus fee.",
    action: "Fund the wallet.",
    retryable: false,
  },
  UNEXPECTED_ERROR: {
    source: "any",
    meaning: "An error that is not this library's, kept as plain data in a snapshot.",
    action: "Read the message.",
    retryable: false,
  },
} as const satisfies Record<string, ErrorCodeRow>;
