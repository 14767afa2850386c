import { z } from "zod";
import { paymentArgsSchema, type ValidPaymentArgs } from "./payment-args.js";
import { parseWith } from "./validation.js";

/**
 * The metadata field that carries the payout key to Pi, so that a payment created by a
 * run that crashed can be found again (`incomplete_server_payments`) and adopted.
 */
export const PAYOUT_KEY_FIELD = "pi_payments_key";

/** What `pay()` takes: the seed's payment arguments plus the caller's idempotency key. */
export interface PayoutArgs {
  /** Your idempotency key for this payout, e.g. `refund-order-42`. Paying it twice returns the same payout. */
  key: string;
  uid: string;
  /** A decimal string ("3.14"), or a number exactly representable with at most 7 decimals. */
  amount: string | number;
  memo: string;
  /** Your own JSON object, returned by Pi as given. @default {} */
  metadata?: Record<string, unknown>;
}

/** {@link PayoutArgs} once validated. */
export interface ValidPayoutArgs extends ValidPaymentArgs {
  key: string;
}

const keySchema = z
  .string({ error: "must be a string: your idempotency key for this payout" })
  .min(1, "must not be empty")
  .max(200, "must be at most 200 characters")
  .refine((key) => key.trim() === key, "must not start or end with spaces")
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused.
  .refine((key) => !/[\u0000-\u001f\u007f]/.test(key), "must not contain control characters");

const payoutArgsSchema = paymentArgsSchema
  .extend({ key: keySchema, metadata: paymentArgsSchema.shape.metadata.optional().default({}) })
  .superRefine((args, ctx) => {
    if (args.metadata && PAYOUT_KEY_FIELD in args.metadata) {
      ctx.addIssue({
        code: "custom",
        path: ["metadata", PAYOUT_KEY_FIELD],
        message: `is reserved: pi-payments puts the payout key there`,
      });
    }
  });

/**
 * Validates what a caller asked to pay.
 * @throws ValidationError naming every bad field
 */
export function parsePayoutArgs(input: unknown): ValidPayoutArgs {
  return parseWith(payoutArgsSchema, input, "payout") as ValidPayoutArgs;
}
