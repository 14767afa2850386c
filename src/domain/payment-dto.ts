import { z } from "zod";

/** The two Pi networks; each name is also its blockchain's network passphrase. */
export const NETWORKS = ["Pi Network", "Pi Testnet"] as const;

/** A Pi network name ("Pi Network" is Mainnet). */
export type NetworkName = (typeof NETWORKS)[number];

/** The blockchain transaction Pi linked to a payment. */
export const paymentTransactionSchema = z.looseObject({
  txid: z.string(),
  verified: z.boolean(),
  _link: z.string(),
});

/**
 * A payment as Pi's Platform API returns it.
 *
 * Parsed defensively: real payloads sometimes omit `from_address`, `direction` or
 * `network`, and may add fields; unknown fields are kept, missing optional ones stay
 * absent rather than being guessed.
 */
export const paymentDtoSchema = z.looseObject({
  identifier: z.string().min(1),
  user_uid: z.string(),
  amount: z.number(),
  memo: z.string(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  from_address: z.string().optional(),
  to_address: z.string(),
  direction: z.enum(["app_to_user", "user_to_app"]).optional(),
  created_at: z.string(),
  network: z.string().optional(),
  status: z.looseObject({
    developer_approved: z.boolean(),
    transaction_verified: z.boolean(),
    developer_completed: z.boolean(),
    cancelled: z.boolean(),
    user_cancelled: z.boolean(),
  }),
  transaction: paymentTransactionSchema.nullable(),
});

/** A payment as Pi's Platform API returns it. */
export type PaymentDTO = z.infer<typeof paymentDtoSchema>;

/** Pi's answer to `GET /v2/payments/incomplete_server_payments`. */
export const incompletePaymentsSchema = z.looseObject({
  incomplete_server_payments: z.array(paymentDtoSchema),
});

/** A Pi user as `GET /v2/me` returns it. */
export const userDtoSchema = z.looseObject({
  uid: z.string(),
  username: z.string().optional(),
  credentials: z
    .looseObject({
      scopes: z.array(z.string()),
      valid_until: z.looseObject({ timestamp: z.number(), iso8601: z.string() }).optional(),
    })
    .optional(),
});

/** A Pi user as `GET /v2/me` returns it. */
export type UserDTO = z.infer<typeof userDtoSchema>;

/** Pi's error body: `{"error": CODE, "error_message": TEXT, "payment"?, "verification_error"?}`. */
export const piErrorBodySchema = z.looseObject({
  error: z.string(),
  error_message: z.string().optional(),
  payment: z.unknown().optional(),
  verification_error: z.string().optional(),
});
