import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
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

/** POSTs signed events to one receiver over keep-alive connections. */
export interface WebhookTransport {
  /** One try; `stop` aborts it (the relay stopping, or its name lost). */
  post(event: PayoutEvent, stop?: AbortSignal): Promise<DeliveryAttempt>;
  /** Closes the idle connections. */
  close(): void;
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

/** A failure in a few words: the timeout, or the socket's error code. */
function describeFailure(error: unknown, timeoutMs: number): string {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  if (name === "TimeoutError" || name === "AbortError") return `timed out after ${timeoutMs} ms`;
  if (typeof code === "string") return `connection failed (${code})`;
  // A message may quote the URL, which can carry a token: only its class is kept.
  return `request failed (${typeof name === "string" ? name : "Error"})`;
}

/**
 * A transport to `url`. node:http rather than fetch: on loopback it sends about three times
 * as many sequential requests per CPU second (no WHATWG streams in between), and one relay
 * sends one event at a time.
 *
 * 2xx is delivered; anything else (another status, a redirect, a timeout, a refused
 * connection) is a failed try, and `post` never throws. Redirects are not followed: a 3xx
 * could send the signed body to another host. The timeout covers the whole exchange, the
 * answer's body included (read and dropped, so that the connection serves the next event).
 */
export function createWebhookTransport(url: string, timeoutMs: number, secret: WebhookSecret) {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  const agent = new client.Agent({ keepAlive: true });

  const send = (body: string, headers: Record<string, string>, stop: AbortSignal | undefined) =>
    new Promise<{ status: number }>((resolve, reject) => {
      const request = client.request(
        target,
        {
          method: "POST",
          agent,
          headers,
          // The consumer's signal too: a relay that must stop (or lost its name) gives up.
          signal: stop
            ? AbortSignal.any([AbortSignal.timeout(timeoutMs), stop])
            : AbortSignal.timeout(timeoutMs),
        },
        (response) => {
          response.on("error", reject);
          response.on("end", () => resolve({ status: response.statusCode ?? 0 }));
          response.resume();
        },
      );
      request.on("error", (error: Error & { reused?: boolean }) => {
        error.reused = request.reusedSocket;
        reject(error);
      });
      request.end(body);
    });

  const post = async (event: PayoutEvent, stop?: AbortSignal): Promise<DeliveryAttempt> => {
    const started = performance.now();
    const body = JSON.stringify(event);
    const headers = {
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
      "user-agent": ourUserAgent(),
      "pi-payments-event-id": event.id,
      [WEBHOOK_SIGNATURE_HEADER.toLowerCase()]: signWebhook(body, secret),
    };
    const done = (status: number | null, error: string | null): DeliveryAttempt => ({
      ok: error === null,
      status,
      error,
      durationMs: performance.now() - started,
    });
    for (let fresh = false; ; fresh = true) {
      try {
        const { status } = await send(body, headers, stop);
        return done(status, status >= 200 && status < 300 ? null : `HTTP ${status}`);
      } catch (error) {
        // A kept-alive connection the receiver closed while idle fails at once with
        // ECONNRESET: sent again once on a new connection (at least once allows it), so that
        // every quiet spell does not cost a try and a backoff.
        const { code, reused } = error as { code?: unknown; reused?: boolean };
        if (!fresh && reused && code === "ECONNRESET") continue;
        return done(null, describeFailure(error, timeoutMs));
      }
    }
  };

  return { post, close: () => agent.destroy() } satisfies WebhookTransport;
}
