import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import {
  ConfigurationError,
  PiPaymentsError,
  type SerializedError,
  serializeError,
} from "../domain/errors.js";
import { parseWith } from "../domain/validation.js";
import type { DeadLetter } from "../storage/feed-types.js";
import type { PayoutStore } from "../storage/types.js";
import type { EventConsumer, HandlerContext } from "./consumer-types.js";
import type { PayoutEvents } from "./event-feed.js";
import { onAbort } from "./on-abort.js";
import type { PayoutEvent } from "./payout-event.js";
import {
  createWebhookTransport,
  type DeliveryAttempt,
  type WebhookTransport,
} from "./webhook-delivery.js";
import type { WebhookSecret } from "./webhook-signature.js";

/** Options of {@link createWebhookRelay}. */
export interface WebhookRelayOptions {
  /** The receiver: an http(s) URL that answers 2xx to an event it has taken in. */
  url: string;
  /**
   * The secret the receiver verifies with (at least 16 characters; 32 random bytes in hex is
   * a good one). Several sign every request with each, one `v1=` apiece: a rotation.
   */
  secret: WebhookSecret;
  /**
   * The durable consumer's name: its cursor and dead letters are kept under it. Give one
   * per receiver when two share a host. @default `webhook:<host of url>`
   */
  name?: string;
  /** How long one POST may take, answer body included, in ms. @default 10000 */
  timeoutMs?: number;
  /**
   * Tries per event before it is dead-lettered and the relay moves on. With the default
   * backoff, 8 tries wait at most 1+2+4+8+16+32+60 = 123 s in all (about half on average,
   * with full jitter), plus the tries' own timeouts. @default 8
   */
  maxAttempts?: number;
  /**
   * The wait before try n + 1: a random time between 0 and min(maxDelayMs, baseDelayMs·2^(n-1))
   * ("full jitter": receivers coming back up are not hit by every relay at once).
   * @default { baseDelayMs: 1000, maxDelayMs: 60000 }
   */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Where a name seen for the first time starts: every stored event, or new ones. @default "start" */
  from?: "start" | "now";
  /** Events read per batch. @default 100 */
  batchSize?: number;
  /** How often to look for new events when caught up, in ms. @default 1000 */
  pollMs?: number;
  /** The consumer's lease, in ms (see `ConsumeOptions.leaseMs`). @default 15000 */
  leaseMs?: number;
  /** Told of every try: delivered, failed and retried, or dead-lettered. Secret-free. */
  onDelivery?: (report: WebhookDeliveryReport) => void;
  /** Told when the store fails under the relay, a dead letter's write included (it goes on). */
  onStoreError?: (error: SerializedError) => void;
  /** Stops the relay (as `stop()` does). */
  signal?: AbortSignal;
}

/** One try of one event, as `onDelivery` hears of it. */
export interface WebhookDeliveryReport {
  eventId: string;
  seq: number;
  attempt: number;
  /** `retrying`: this try failed and another follows after `retryInMs`. */
  outcome: "delivered" | "retrying" | "dead-lettered";
  status: number | null;
  error: string | null;
  durationMs: number;
  retryInMs: number | null;
  /** The dead letter kept, with `outcome: "dead-lettered"`. */
  deadLetter: DeadLetter | null;
}

/** A running webhook relay. */
export interface WebhookRelay {
  /** Its consumer's name. */
  readonly name: string;
  /** The receiver's URL without credentials or query (safe to print). */
  readonly target: string;
  /** The durable consumer under it (cursor, holding). */
  readonly consumer: EventConsumer;
  /** Events delivered (2xx) by this relay since it started. */
  readonly delivered: number;
  /** Events this relay gave up on since it started. */
  readonly deadLettered: number;
  /** Resolves once the relay stopped. */
  readonly done: Promise<void>;
  /**
   * POSTs a dead letter of this relay's consumer now (one try) and removes it once the
   * receiver answers 2xx.
   * @throws PiPaymentsError `WEBHOOK_DELIVERY_FAILED` (the letter is kept)
   * @throws NotFoundError `DEAD_LETTER_NOT_FOUND`; ConfigurationError `DEAD_LETTER_OTHER_CONSUMER`
   */
  redeliver(id: number): Promise<DeadLetter>;
  /** Stops: the POST in flight finishes (bounded by `timeoutMs`), a backoff is cut short. */
  stop(): Promise<void>;
}

const fn = <T>(what: string) =>
  z.custom<T>((v) => typeof v === "function", `must be a function (${what})`).optional();

const httpUrl = z
  .string()
  .refine(
    (v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol),
    "must be an http(s) URL",
  );

// The secret's checks never echo it: zod's messages here name only what is wrong.
const relaySecret = z.union(
  [
    z.string().min(16, "must be at least 16 characters"),
    z.array(z.string().min(16, "must be at least 16 characters")).min(1),
  ],
  { error: () => "must be a string of at least 16 characters, or a non-empty array of them" },
);

const optionsSchema = z.strictObject({
  url: httpUrl,
  secret: relaySecret,
  name: z.string().min(1).max(200).optional(),
  timeoutMs: z.number().int().min(1).default(10_000),
  maxAttempts: z.number().int().min(1).max(100).default(8),
  backoff: z
    .strictObject({
      baseDelayMs: z.number().int().min(0).default(1000),
      maxDelayMs: z.number().int().min(0).default(60_000),
    })
    .prefault({}),
  from: z.enum(["start", "now"]).optional(),
  batchSize: z.number().int().min(1).max(10_000).optional(),
  pollMs: z.number().int().min(1).optional(),
  leaseMs: z.number().int().min(100).optional(),
  onDelivery: fn<(report: WebhookDeliveryReport) => void>("report) => …"),
  onStoreError: fn<(error: SerializedError) => void>("error) => …"),
  signal: z
    .custom<AbortSignal>((v) => v instanceof AbortSignal, "must be an AbortSignal")
    .optional(),
});

/** A URL as a person may see it: no user, password or query (any may be a token). */
export function displayUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** The default consumer name of a relay to `url`. */
export function defaultRelayName(url: string): string {
  return `webhook:${new URL(url).host}`;
}

/**
 * Relays the event feed to a webhook receiver: a signed JSON POST per event, through a
 * durable consumer, so that every event is delivered at least once, or dead-lettered.
 *
 * Order: one event at a time, in feed order, per consumer name. An event whose tries fail
 * holds the ones after it back (for up to about two minutes with the defaults) and is then
 * dead-lettered, and the relay moves on: one dead receiver never stalls the feed forever,
 * but an event redelivered later arrives out of order. Receivers dedupe on the event's `id`
 * and order by its `seq`. Delivery is at least once: a crash between a receiver's 2xx and
 * the cursor's write sends the events of that batch again.
 *
 * The secret is kept in this closure only: it is in no property, report, dead letter,
 * error or event.
 *
 * @example
 * ```ts
 * const relay = createWebhookRelay(payouts, { url: "https://shop.example/hooks/pi", secret });
 * // at shutdown
 * await relay.stop();
 * ```
 */
export function createWebhookRelay(
  payouts: { readonly events: PayoutEvents; readonly store: PayoutStore },
  options: WebhookRelayOptions,
): WebhookRelay {
  const valid = parseWith(optionsSchema, options, "webhook relay options", "INVALID_OPTIONS");
  const { url, secret, timeoutMs, maxAttempts, onDelivery } = valid;
  const { baseDelayMs, maxDelayMs } = valid.backoff;
  const name = valid.name ?? defaultRelayName(url);
  const target = { url, secret: secret as WebhookSecret, timeoutMs };
  const transport = createWebhookTransport(url, timeoutMs, target.secret);
  const stopper = new AbortController();
  /** Events whose tries ran out but whose dead letter the store refused: not tried again. */
  const exhausted = new Map<string, DeliveryAttempt & { attempts: number }>();
  let delivered = 0;
  let deadLettered = 0;

  const report = (
    event: PayoutEvent,
    attempt: number,
    result: DeliveryAttempt,
    rest: Pick<WebhookDeliveryReport, "outcome" | "retryInMs" | "deadLetter">,
  ) =>
    onDelivery?.({
      eventId: event.id,
      seq: event.seq,
      attempt,
      status: result.status,
      error: result.error,
      durationMs: Math.round(result.durationMs),
      ...rest,
    });

  const deliver = async (event: PayoutEvent, { signal }: HandlerContext): Promise<void> => {
    let last = exhausted.get(event.id);
    for (let attempt = 1; !last; attempt++) {
      // Stopping, or the name's lease lost: not acknowledged; the next holder sends it.
      if (stopper.signal.aborted || signal.aborted) throw new Error("relay stopping");
      const result = await transport.post(event, signal);
      if (result.ok) {
        delivered += 1;
        report(event, attempt, result, { outcome: "delivered", retryInMs: null, deadLetter: null });
        return;
      }
      if (attempt >= maxAttempts) {
        last = { ...result, attempts: attempt };
        break;
      }
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const retryInMs = Math.round(Math.random() * ceiling);
      report(event, attempt, result, { outcome: "retrying", retryInMs, deadLetter: null });
      await sleep(retryInMs, undefined, { signal: AbortSignal.any([stopper.signal, signal]) });
    }
    exhausted.set(event.id, last);
    // If the store refuses, this throws: the consumer calls again, and the map above sends
    // it straight here instead of trying the receiver another maxAttempts times.
    const letter = await payouts.store.addDeadLetter({
      consumer: name,
      seq: event.seq,
      attempts: last.attempts,
      error: last.error ?? "failed",
      at: new Date().toISOString(),
    });
    exhausted.delete(event.id);
    deadLettered += 1;
    report(event, last.attempts, last, {
      outcome: "dead-lettered",
      retryInMs: null,
      deadLetter: letter,
    });
  };

  const consumer = payouts.events.consume(name, deliver, {
    ...(valid.from === undefined ? {} : { from: valid.from }),
    ...(valid.batchSize === undefined ? {} : { batchSize: valid.batchSize }),
    ...(valid.pollMs === undefined ? {} : { pollMs: valid.pollMs }),
    ...(valid.leaseMs === undefined ? {} : { leaseMs: valid.leaseMs }),
    ...(valid.onStoreError === undefined ? {} : { onStoreError: valid.onStoreError }),
    // Its consumer sees the signal too: one aborted already then claims nothing (no row
    // written, so a later consumer of the name starts where `from` says, not where this
    // relay would have).
    ...(valid.signal === undefined ? {} : { signal: valid.signal }),
    // The handler only throws when stopping or when the store refused a dead letter: a
    // short pause, then the same event again. The latter is the store's failure to report.
    onError: (error) => {
      if (!stopper.signal.aborted) valid.onStoreError?.(serializeError(error));
    },
    backoff: { baseDelayMs: Math.min(baseDelayMs, 1000), maxDelayMs: Math.max(maxDelayMs, 1) },
  });

  const stop = async () => {
    // The consumer first, so that it calls the handler no more; then the backoff is cut.
    const stopping = consumer.stop();
    stopper.abort();
    await stopping;
    transport.close();
  };
  // A signal aborted already stops the relay at once.
  if (valid.signal) onAbort(valid.signal, () => void stop());

  return {
    name,
    target: displayUrl(url),
    consumer,
    get delivered() {
      return delivered;
    },
    get deadLettered() {
      return deadLettered;
    },
    done: consumer.done,
    redeliver: (id) => redeliverToWebhook(payouts.events, id, { ...target, name }, transport),
    stop,
  };
}

/**
 * POSTs dead letter `id` of consumer `target.name` once, and removes it once answered 2xx:
 * `relay.redeliver(id)`, and `pi-payments events redeliver`, which needs no running relay.
 */
export function redeliverToWebhook(
  events: PayoutEvents,
  id: number,
  target: { url: string; secret: WebhookSecret; timeoutMs: number; name: string },
  transport?: WebhookTransport,
): Promise<DeadLetter> {
  const sender = transport ?? createWebhookTransport(target.url, target.timeoutMs, target.secret);
  return events
    .redeliver(id, async (event, letter) => {
      if (letter.consumer !== target.name) {
        throw new ConfigurationError(
          `Dead letter ${id} was given up by consumer "${letter.consumer}", not by this relay ("${target.name}"): redeliver it with that relay's URL or name.`,
          "DEAD_LETTER_OTHER_CONSUMER",
        );
      }
      const result = await sender.post(event);
      if (!result.ok) {
        throw new PiPaymentsError(
          `Redelivering dead letter ${id} (${event.id}) to ${displayUrl(target.url)} failed: ${result.error}. The dead letter is kept.`,
          {
            code: "WEBHOOK_DELIVERY_FAILED",
            retryable: true,
            details: { id, eventId: event.id, status: result.status },
          },
        );
      }
    })
    .finally(() => {
      // A transport made for this one POST is closed; a relay's stays open for its feed.
      if (sender !== transport) sender.close();
    });
}
