import { StrKey } from "@stellar/stellar-sdk";
import { ValidationError } from "./errors.js";

const paymentIdPattern = /^[A-Za-z0-9]{1,64}$/;
const txidPattern = /^[0-9a-f]{64}$/;

/**
 * Checks a Pi payment identifier before it goes into a URL path. Pi's are 28 letters and
 * digits; anything else (a slash, a dot) could address another endpoint.
 */
export function parsePaymentId(value: unknown, path = "paymentId"): string {
  if (typeof value !== "string" || !paymentIdPattern.test(value)) {
    throw new ValidationError(
      `Invalid ${path}: expected Pi's payment identifier (letters and digits), got ${preview(value)}.`,
      [{ path, message: "must be letters and digits" }],
      "INVALID_PAYMENT_ID",
    );
  }
  return value;
}

/** Checks a transaction id: the transaction hash as 64 lowercase hex digits. */
export function parseTxid(value: unknown, path = "txid"): string {
  const text = typeof value === "string" ? value.toLowerCase() : value;
  if (typeof text !== "string" || !txidPattern.test(text)) {
    throw new ValidationError(
      `Invalid ${path}: expected a transaction hash of 64 hex digits, got ${preview(value)}.`,
      [{ path, message: "must be 64 hex digits" }],
      "INVALID_TXID",
    );
  }
  return text;
}

/**
 * Addresses already found valid. Every step of a payout checks Pi's payment, recipient
 * included, and the strkey check (base32 and a CRC) was a twentieth of a payout's CPU; a
 * wallet pays the same few users again and again. Bounded: emptied when full.
 */
const validAddresses = new Set<string>();
const VALID_ADDRESSES_KEPT = 1024;

/** True for a Stellar/Pi public address (G…). */
export function isWalletAddress(value: unknown): value is string {
  if (typeof value !== "string") return false;
  if (validAddresses.has(value)) return true;
  if (!StrKey.isValidEd25519PublicKey(value)) return false;
  if (validAddresses.size >= VALID_ADDRESSES_KEPT) validAddresses.clear();
  validAddresses.add(value);
  return true;
}

function preview(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === null ? "null" : typeof value;
}
