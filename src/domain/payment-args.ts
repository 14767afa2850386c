import { z } from "zod";
import { type Amount, parseAmount } from "./amount.js";
import { isValidationError } from "./errors.js";
import { isPlainObject, type JsonObject, jsonProblem } from "./json.js";
import { parseWith } from "./validation.js";

/** What an app asks Pi to pay: the seed SDKs' `PaymentArgs`. */
export interface PaymentArgs {
  /** Pi to pay: a decimal string ("3.14") or a number exactly representable with at most 7 decimals. */
  amount: string | number;
  /** A short text shown to the user. */
  memo: string;
  /** The app's own object, returned by Pi as given: use it to tie the payment to your records. */
  metadata: Record<string, unknown>;
  /** The app-specific uid of the user to pay. */
  uid: string;
}

/** {@link PaymentArgs} once validated: the amount canonical, the metadata plain JSON. */
export interface ValidPaymentArgs {
  amount: Amount;
  memo: string;
  metadata: JsonObject;
  uid: string;
}

const amountSchema = z.unknown().transform((value, ctx): Amount => {
  try {
    return parseAmount(value);
  } catch (error) {
    if (!isValidationError(error)) throw error;
    ctx.addIssue({
      code: "custom",
      message: error.issues[0]?.message ?? error.message,
      params: { code: "INVALID_AMOUNT" },
    });
    return z.NEVER;
  }
});

/**
 * Metadata: a plain object that survives JSON unchanged. What passes is a copy: the caller
 * may change its object once the call has returned (a `pay()` not awaited yet), and what is
 * stored and sent must stay what was asked (the intent and the snapshot are written at
 * different moments by a store that awaits its connection).
 */
export const metadataSchema = z.unknown().transform((value, ctx): JsonObject => {
  if (!isPlainObject(value)) {
    ctx.addIssue({
      code: "custom",
      message: "must be a plain object",
      params: { code: "INVALID_METADATA" },
    });
    return z.NEVER;
  }
  const problem = jsonProblem(value, "metadata");
  if (problem !== undefined) {
    ctx.addIssue({ code: "custom", message: problem, params: { code: "INVALID_METADATA" } });
    return z.NEVER;
  }
  return JSON.parse(JSON.stringify(value)) as JsonObject;
});

const nonEmptyText = (what: string) =>
  z
    .string({
      error: (issue) =>
        `must be a string, got ${issue.input === null ? "null" : typeof issue.input}`,
    })
    .refine((s) => s.trim().length > 0, `${what} must not be empty`);

/** The schema of {@link PaymentArgs}; unknown keys are refused (a typo must not pass silently). */
export const paymentArgsSchema = z.strictObject({
  amount: amountSchema,
  memo: nonEmptyText("memo"),
  metadata: metadataSchema,
  uid: nonEmptyText("uid"),
});

/**
 * Validates what a caller asked to pay.
 * @throws ValidationError naming every bad field
 */
export function parsePaymentArgs(input: unknown): ValidPaymentArgs {
  return parseWith(paymentArgsSchema, input, "payment");
}
