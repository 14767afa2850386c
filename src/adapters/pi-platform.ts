import ky, { HTTPError, type KyInstance, type Options as KyOptions, TimeoutError } from "ky";
import { z } from "zod";
import { amountToNumber } from "../domain/amount.js";
import { PiApiError, ValidationError } from "../domain/errors.js";
import { parsePaymentId, parseTxid } from "../domain/ids.js";
import type { ValidPaymentArgs } from "../domain/payment-args.js";
import {
  incompletePaymentsSchema,
  type PaymentDTO,
  paymentDtoSchema,
  type UserDTO,
  userDtoSchema,
} from "../domain/payment-dto.js";
import { DEFAULT_PI_API_URL, normalizePiApiUrl } from "../domain/pi-api-url.js";
import { parseWith } from "../domain/validation.js";
import { bufferedFetch } from "./buffered-fetch.js";
import { mapPiError, unknownAdvice } from "./map-pi-error.js";
import type { PiPlatform } from "./types.js";

/** How the adapter retries calls that are safe to repeat. */
export interface RetryPolicy {
  /** Retries after the first attempt. @default 3 */
  limit?: number;
  /** Delay before the first retry, doubled each time, with jitter. @default 300 */
  initialDelayMs?: number;
  /** The longest delay between two attempts. @default 5000 */
  maxDelayMs?: number;
}

/** Options of {@link createPiPlatform}. */
export interface PiPlatformOptions {
  /** The app's server API key (Pi Developer Portal). Sent as `Authorization: Key …`; never logged. */
  apiKey: string;
  /** Pi's API, with or without its `/v2` (either form works). @default "https://api.minepi.com" */
  baseUrl?: string;
  /** Per-request timeout in ms. @default 20000 */
  timeoutMs?: number;
  /** Retries for reads and idempotent writes, or `false` for none. Creating a payment is never retried. */
  retry?: RetryPolicy | false;
  /** A ky instance to build on (hooks, proxies); base URL, auth, timeout and retries are set on top. */
  ky?: KyInstance;
  /** A fetch implementation for ky to use. */
  fetch?: typeof fetch;
}

const optionsSchema = z.strictObject({
  apiKey: z.string().trim().min(1, "must be your app's server API key"),
  baseUrl: z
    .url({ protocol: /^https?$/ })
    .default(DEFAULT_PI_API_URL)
    .transform(normalizePiApiUrl),
  timeoutMs: z.number().int().positive().default(20_000),
  retry: z
    .union([
      z.literal(false),
      z.strictObject({
        limit: z.number().int().min(0).default(3),
        initialDelayMs: z.number().int().min(0).default(300),
        maxDelayMs: z.number().int().min(0).default(5_000),
      }),
    ])
    .default({ limit: 3, initialDelayMs: 300, maxDelayMs: 5_000 }),
  ky: z.custom<KyInstance>((v) => typeof v === "function", "must be a ky instance").optional(),
  fetch: z
    .custom<typeof fetch>((v) => typeof v === "function", "must be a fetch function")
    .optional(),
});

type Schema<T> = { safeParse(value: unknown): { success: true; data: T } | { success: false } };

/**
 * Creates the Pi Platform API adapter, on ky.
 *
 * @example
 * const platform = createPiPlatform({ apiKey: process.env.PI_API_KEY! });
 * const payment = await platform.getPayment("a1b2…");
 */
export function createPiPlatform(options: PiPlatformOptions): PiPlatform {
  const settings = parseWith(optionsSchema, options, "Pi platform options", "INVALID_OPTIONS");
  const retry = settings.retry;
  const client = (settings.ky ?? ky).extend({
    prefixUrl: settings.baseUrl,
    timeout: settings.timeoutMs,
    headers: { Authorization: `Key ${settings.apiKey}` },
    retry: { limit: 0 },
    fetch: bufferedFetch(settings.fetch),
  });

  // Safe to repeat: reads, and the writes whose replay Pi answers idempotently
  // (approve, complete: already_completed, cancel: cancelled_payment).
  const safeRetry: NonNullable<KyOptions["retry"]> =
    retry === false || retry.limit === 0
      ? { limit: 0 }
      : {
          limit: retry.limit,
          methods: ["get", "post"],
          statusCodes: [408, 429, 500, 502, 503, 504],
          delay: (attempt) => {
            const ceiling = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** (attempt - 1));
            return ceiling / 2 + Math.random() * (ceiling / 2);
          },
        };

  async function call<T>(
    method: "GET" | "POST",
    path: string,
    schema: Schema<T>,
    /** `retry`: the call is safe to repeat whatever happened (ky retries it, and errors say so). */
    request: { json?: unknown; retry: boolean; headers?: Record<string, string> },
  ): Promise<T> {
    let response: Response;
    try {
      response = await client(path, {
        method,
        retry: request.retry ? safeRetry : { limit: 0 },
        ...(request.json === undefined ? {} : { json: request.json }),
        ...(request.headers ? { headers: request.headers } : {}),
      });
    } catch (error) {
      if (error instanceof HTTPError) {
        const body = await error.response.text().catch(() => undefined);
        throw mapPiError({
          method,
          path: `/${path}`,
          status: error.response.status,
          body,
          cause: error,
          idempotent: request.retry,
        });
      }
      throw mapPiError({
        method,
        path: `/${path}`,
        cause: error,
        timedOut: error instanceof TimeoutError,
        idempotent: request.retry,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      // An answer that does not parse says nothing: a write may have been applied (DESIGN P2b).
      const write = method !== "GET";
      throw new PiApiError(
        `Pi answered ${method} /${path} with a body that is not what the API documents. Nothing was assumed from it.${unknownAdvice(write, request.retry)}`,
        "PI_BAD_RESPONSE",
        {
          method,
          path: `/${path}`,
          status: response.status,
          retryable: request.retry,
          outcomeUnknown: write,
        },
      );
    }
    return parsed.data;
  }

  const payment = paymentDtoSchema as Schema<PaymentDTO>;

  return {
    name: "pi-platform",

    createPayment: (args: ValidPaymentArgs) =>
      call("POST", "v2/payments", payment, {
        json: {
          payment: {
            amount: amountToNumber(args.amount),
            memo: args.memo,
            metadata: args.metadata,
            uid: args.uid,
          },
        },
        retry: false,
      }),

    getPayment: async (paymentId) =>
      call("GET", `v2/payments/${parsePaymentId(paymentId)}`, payment, { retry: true }),

    approvePayment: async (paymentId) =>
      call("POST", `v2/payments/${parsePaymentId(paymentId)}/approve`, payment, { retry: true }),

    completePayment: async (paymentId, txid) => {
      const id = parsePaymentId(paymentId);
      const hash = parseTxid(txid);
      try {
        return await call("POST", `v2/payments/${id}/complete`, payment, {
          json: { txid: hash },
          retry: true,
        });
      } catch (error) {
        // A retried or replayed complete finds its own earlier success.
        if (error instanceof PiApiError && error.piCode === "already_completed") {
          const current =
            error.payment ?? (await call("GET", `v2/payments/${id}`, payment, { retry: true }));
          if (current.transaction?.txid === hash && current.status.developer_completed)
            return current;
        }
        throw error;
      }
    },

    cancelPayment: async (paymentId) => {
      const id = parsePaymentId(paymentId);
      try {
        return await call("POST", `v2/payments/${id}/cancel`, payment, { json: {}, retry: true });
      } catch (error) {
        if (error instanceof PiApiError && error.piCode === "cancelled_payment") {
          return (
            error.payment ?? (await call("GET", `v2/payments/${id}`, payment, { retry: true }))
          );
        }
        throw error;
      }
    },

    incompleteServerPayments: async () =>
      (
        await call(
          "GET",
          "v2/payments/incomplete_server_payments",
          incompletePaymentsSchema as Schema<{
            incomplete_server_payments: PaymentDTO[];
          }>,
          { retry: true },
        )
      ).incomplete_server_payments,

    me: async (accessToken) => {
      if (
        typeof accessToken !== "string" ||
        accessToken.trim() === "" ||
        /\s/.test(accessToken.trim())
      ) {
        throw new ValidationError(
          "Invalid accessToken: pass the user's access token from the Pi SDK.",
          [{ path: "accessToken", message: "must be a non-empty token" }],
          "INVALID_ACCESS_TOKEN",
        );
      }
      return call("GET", "v2/me", userDtoSchema as Schema<UserDTO>, {
        retry: true,
        headers: { Authorization: `Bearer ${accessToken.trim()}` },
      });
    },

    close: async () => {},
  };
}
