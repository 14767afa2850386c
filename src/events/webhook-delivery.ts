import { readFileSync } from "node:fs";
import type { PayoutEvent } from "./payout-event.js";
import { signWebhook, WEBHOOK_SIGNATURE_HEADER, type WebhookSecret } from "./webhook-signature.js";

/** What one POST of an event came to. */
export interface DeliveryAttempt {
  ok: boolean;
  /** The receiver's HTTP status; null when none arrived (timeout, refused connection). */
  status: number | null;
  /** Why it failed, one line and secret-free (no URL, no header); null when delivered. */
  error: string | null;
  durationMs: number;
}

let userAgent: string | undefined;

/** `pi-payments/<version>`, read once from the package's own package.json. */
function ourUserAgent(): string {
  if (userAgent === undefined) {
    try {
      // src/events/ and dist/events/ both sit two folders below the package root.
      const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
      userAgent = `pi-payments/${String(pkg.version)}`;
    } catch {
      userAgent = "pi-payments";
    }
  }
  return userAgent;
}

/** A failure in a few words: the status, the timeout, or the socket's error code. */
function describeFailure(error: unknown, timeoutMs: number): string {
  const name = (error as { name?: unknown })?.name;
  if (name === "TimeoutError" || name === "AbortError") return `timed out after ${timeoutMs} ms`;
  // undici's "fetch failed" keeps the socket's reason in `cause` (ECONNREFUSED, ECONNRESET…).
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (typeof cause?.code === "string") return `connection failed (${cause.code})`;
  // A message may quote the URL, which can carry a token: only its class is kept.
  return `request failed (${typeof name === "string" ? name : "Error"})`;
}

/**
 * POSTs one event to a webhook receiver, signed afresh: 2xx is delivered, anything else
 * (another status, a redirect, a timeout, a refused connection) is a failed attempt. Never
 * throws. Redirects are not followed: a 3xx could send the signed body to another host.
 * The answer's body is read (bounded by the same timeout) and dropped, so that the
 * keep-alive connection is free for the next event.
 */
export async function postEvent(
  event: PayoutEvent,
  target: { url: string; secret: WebhookSecret; timeoutMs: number },
): Promise<DeliveryAttempt> {
  const started = performance.now();
  const body = JSON.stringify(event);
  const signal = AbortSignal.timeout(target.timeoutMs);
  try {
    const response = await fetch(target.url, {
      method: "POST",
      redirect: "manual",
      signal,
      headers: {
        "content-type": "application/json",
        "user-agent": ourUserAgent(),
        "pi-payments-event-id": event.id,
        [WEBHOOK_SIGNATURE_HEADER.toLowerCase()]: signWebhook(body, target.secret),
      },
      body,
    });
    await response.arrayBuffer();
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      status: response.status,
      error: ok ? null : `HTTP ${response.status}`,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    return {
      ok: false,
      status: null,
      error: describeFailure(error, target.timeoutMs),
      durationMs: performance.now() - started,
    };
  }
}
