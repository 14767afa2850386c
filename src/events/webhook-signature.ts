import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { WebhookVerificationError } from "../domain/errors.js";
import { parseWith } from "../domain/validation.js";
import type { PayoutEvent } from "./payout-event.js";

/** The header that carries a webhook's signature. */
export const WEBHOOK_SIGNATURE_HEADER = "Pi-Payments-Signature";

/** A webhook secret, or several while one is rotated (the newest first, by convention). */
export type WebhookSecret = string | readonly string[];

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /**
   * How far the signature's timestamp may be from now, either way, in seconds: older ones are
   * refused as replays, later ones as forged or from a clock that runs ahead.
   * @default 300
   */
  toleranceSeconds?: number;
  /** The receiver's clock, in ms since the epoch (tests). @default Date.now */
  now?: () => number;
}

/** The HMAC of one signed payload, in lower-case hex. */
function hmacHex(secret: string, timestamp: number, body: string | Uint8Array): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.`);
  return mac.update(body).digest("hex");
}

const secretList = (secret: WebhookSecret): readonly string[] =>
  typeof secret === "string" ? [secret] : secret;

/**
 * The `Pi-Payments-Signature` header value of a body: `t=<unix seconds>,v1=<hex>`, with one
 * `v1` per secret so that a receiver still on the old secret verifies during a rotation.
 * The relay signs each attempt anew, so a retry hours later is not refused as a replay.
 */
export function signWebhook(
  body: string | Uint8Array,
  secret: WebhookSecret,
  timestampSeconds: number = Math.floor(Date.now() / 1000),
): string {
  const signatures = secretList(secret).map((s) => `v1=${hmacHex(s, timestampSeconds, body)}`);
  return [`t=${timestampSeconds}`, ...signatures].join(",");
}

/** A parsed header: its timestamp and every v1 signature, as raw bytes. */
function parseHeader(header: string): { timestamp: number; signatures: Buffer[] } | undefined {
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(",")) {
    const at = part.indexOf("=");
    if (at < 0) return undefined;
    const name = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (name === "t") {
      if (timestamp !== undefined || !/^\d{1,15}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (name === "v1") {
      // Anything but 64 hex digits cannot match: kept out so every comparison is 32 bytes.
      if (/^[0-9a-fA-F]{64}$/.test(value)) signatures.push(Buffer.from(value, "hex"));
    }
    // Other schemes (a future v2) are ignored, so that a relay may add one without breaking
    // receivers that only know v1.
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

const secretSchema = z.union([
  z.string().min(1, "must be the non-empty webhook secret"),
  z.array(z.string().min(1, "must be non-empty")).min(1, "must hold at least one secret"),
]);

const verifySchema = z
  .strictObject({
    toleranceSeconds: z.number().int().min(0).default(300),
    now: z.custom<() => number>((v) => typeof v === "function", "must be a function").optional(),
  })
  .prefault({});

/**
 * Checks a webhook request from a pi-payments relay and returns its event. Pass the raw body
 * exactly as received (before any JSON parsing: a re-serialised body no longer matches) and
 * the `Pi-Payments-Signature` header. Signatures are compared in constant time; any `v1` of
 * the header matching any of the secrets passes, so either side can rotate its secret.
 *
 * A request passes once per attempt of the relay: dedupe on the event's `id` (also sent as
 * the `Pi-Payments-Event-Id` header), which is stable across retries and redeliveries.
 *
 * @throws WebhookVerificationError `WEBHOOK_SIGNATURE_MALFORMED`, `WEBHOOK_SIGNATURE_INVALID`,
 *   `WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE` or `WEBHOOK_PAYLOAD_INVALID`: answer 400 and ignore it
 * @example
 * ```ts
 * const event = verifyWebhook(rawBody, req.headers["pi-payments-signature"], secret);
 * if (event.type === "payout.completed") await markRefunded(event.key);
 * ```
 */
export function verifyWebhook(
  body: string | Uint8Array,
  header: string | readonly string[] | undefined | null,
  secret: WebhookSecret,
  options?: VerifyWebhookOptions,
): PayoutEvent {
  const secrets = parseWith(secretSchema, secret, "webhook secret", "INVALID_OPTIONS");
  const { toleranceSeconds, now } = parseWith(
    verifySchema,
    options,
    "verifyWebhook options",
    "INVALID_OPTIONS",
  );
  if (typeof body !== "string" && !(body instanceof Uint8Array)) {
    throw new TypeError("verifyWebhook: body must be the raw request body, a string or a Buffer.");
  }
  // Node joins a repeated header with ", ": one value or an array, never both signatures lost.
  const text = Array.isArray(header) ? header.join(",") : header;
  const parsed = typeof text === "string" ? parseHeader(text) : undefined;
  if (!parsed) {
    throw new WebhookVerificationError(
      `The ${WEBHOOK_SIGNATURE_HEADER} header is missing or malformed (expected t=<unix seconds>,v1=<hex>).`,
      "WEBHOOK_SIGNATURE_MALFORMED",
    );
  }
  // Every expected signature is compared with every given one, without stopping at the
  // first match: the time taken says nothing about which (or how much of one) matched.
  let matched = false;
  for (const key of typeof secrets === "string" ? [secrets] : secrets) {
    const expected = Buffer.from(hmacHex(key, parsed.timestamp, body), "hex");
    for (const given of parsed.signatures) {
      if (timingSafeEqual(expected, given)) matched = true;
    }
  }
  if (!matched) {
    throw new WebhookVerificationError(
      "No signature of the webhook matches its body: the body was changed, or it was signed with another secret.",
      "WEBHOOK_SIGNATURE_INVALID",
    );
  }
  // Checked after the signature: a forged timestamp fails above, so a refusal here is about
  // a genuine request that arrives too late (a replay) or from a clock that is off.
  const skew = Math.floor((now ?? Date.now)() / 1000) - parsed.timestamp;
  if (Math.abs(skew) > toleranceSeconds) {
    throw new WebhookVerificationError(
      `The webhook was signed ${Math.abs(skew)} s ${skew > 0 ? "ago" : "in the future"}, beyond the tolerance of ${toleranceSeconds} s: refused as a possible replay.`,
      "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
      { skewSeconds: skew, toleranceSeconds },
    );
  }
  let event: unknown;
  try {
    event = JSON.parse(typeof body === "string" ? body : Buffer.from(body).toString("utf8"));
  } catch {
    event = undefined;
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    throw new WebhookVerificationError(
      "The webhook's body is signed but is not a JSON object.",
      "WEBHOOK_PAYLOAD_INVALID",
    );
  }
  return event as PayoutEvent;
}
