import type { ErrorCodeRow } from "./error-codes.js";

/**
 * The codes of webhooks: `verifyWebhook`'s refusals on the receiver's side, the relay's
 * redeliveries and dead letters, and the command line's webhook settings. Part of
 * `ownErrorCodes` (and so of `ErrorCode`, the catalogue and the README's table).
 */
export const webhookErrorCodes = {
  WEBHOOK_SIGNATURE_MALFORMED: {
    source: "WebhookVerificationError",
    meaning:
      "The Pi-Payments-Signature header is missing or not `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`.",
    action: "Refuse the request (answer 400); pass the header exactly as received.",
    retryable: false,
  },
  WEBHOOK_SIGNATURE_INVALID: {
    source: "WebhookVerificationError",
    meaning:
      "No v1 signature of the header matches the body with any of the secrets given: the body was changed, or the secret is not the relay's.",
    action:
      "Refuse the request; verify the raw body as received (before any JSON parsing) with the relay's secret.",
    retryable: false,
  },
  WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE: {
    source: "WebhookVerificationError",
    meaning:
      "The signature's timestamp is further from now than the tolerance (300 s by default): a replayed request, or a clock that is off.",
    action:
      "Refuse the request; if it is genuine, the relay re-signs it on its next attempt. Check the clocks (NTP).",
    retryable: false,
  },
  WEBHOOK_PAYLOAD_INVALID: {
    source: "WebhookVerificationError",
    meaning: "A correctly signed body that is not a JSON object.",
    action: "Report it: the relay only signs events it serialised itself.",
    retryable: false,
  },
  WEBHOOK_DELIVERY_FAILED: {
    source: "PiPaymentsError",
    meaning:
      "A redelivery of a dead letter was not answered 2xx in time (the dead letter is kept).",
    action: "Fix the receiver, then `pi-payments events redeliver <id>` again.",
    retryable: true,
  },
  MISSING_WEBHOOK_SECRET: {
    source: "ConfigurationError",
    meaning: "PI_PAYMENTS_WEBHOOK_SECRET is not set, or shorter than 16 characters (command line).",
    action: "Export the secret the receiver verifies with (e.g. 32 random bytes in hex).",
    retryable: false,
  },
  MISSING_WEBHOOK_URL: {
    source: "ConfigurationError",
    meaning: "Neither --url nor PI_PAYMENTS_WEBHOOK_URL gives the receiver's http(s) URL.",
    action: "Pass --url https://… or export PI_PAYMENTS_WEBHOOK_URL.",
    retryable: false,
  },
  DEAD_LETTER_NOT_FOUND: {
    source: "NotFoundError",
    meaning: "No dead letter with that id (redelivered already, or never kept).",
    action: "List them with `pi-payments events --dead`.",
    retryable: false,
  },
  DEAD_LETTER_OTHER_CONSUMER: {
    source: "ConfigurationError",
    meaning: "The dead letter was given up by another consumer (another webhook URL or name).",
    action: "Redeliver it with the --url (or --name) of the relay named in its consumer.",
    retryable: false,
  },
} as const satisfies Record<string, ErrorCodeRow>;
