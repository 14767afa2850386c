import { z } from "zod";
import { NotFoundError } from "../domain/errors.js";
import { parseWith } from "../domain/validation.js";
import type { ConsumerState, DeadLetter } from "../storage/feed-types.js";
import type { PayoutStore } from "../storage/types.js";
import type { ConsumeOptions, EventConsumer, EventHandler } from "./consumer-types.js";
import { startEventConsumer } from "./event-consumer.js";
import { type PayoutEvent, toPayoutEvent } from "./payout-event.js";

/** The durable event feed of a store: every saved step of every payout, whoever drove it. */
export interface PayoutEvents {
  /**
   * Events after `after` (a `seq`), in feed order: for polling. Start at 0, then pass the
   * last `seq` you handled.
   */
  read(options?: { after?: number; limit?: number }): Promise<PayoutEvent[]>;
  /**
   * Starts a named durable consumer: `handler` gets every event after the name's cursor, in
   * order, at least once (again only after a crash), acknowledged when it resolves; one
   * process of the fleet holds a name at a time, and another takes over when it dies.
   */
  consume(name: string, handler: EventHandler, options?: ConsumeOptions): EventConsumer;
  /** Every consumer of the store, with its cursor and holder. */
  consumers(): Promise<ConsumerState[]>;
  /** Events a consumer gave up on (a webhook relay's last attempt failed). */
  deadLetters(consumer?: string): Promise<DeadLetter[]>;
  /**
   * Hands a dead letter's event to `deliver` now, and removes the letter once it resolves
   * (if it throws, the letter stays and the error is rethrown). A webhook relay's
   * `redeliver(id)` calls it with its own POST: prefer that one.
   * @returns the letter, as it was before its removal
   * @throws NotFoundError `DEAD_LETTER_NOT_FOUND` for an id not (or no longer) kept
   */
  redeliver(
    id: number,
    deliver: (event: PayoutEvent, letter: DeadLetter) => unknown,
  ): Promise<DeadLetter>;
}

const readSchema = z
  .strictObject({
    after: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(10_000).default(100),
  })
  .prefault({});

const nameSchema = z
  .string()
  // Names are stored as text (PostgreSQL refuses a NUL) and printed by the command line.
  .refine(
    (name) => ![...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    "must be printable text (no control characters)",
  )
  .min(1, "must name the consumer")
  .max(200, "must be at most 200 characters");

const consumeSchema = z
  .strictObject({
    from: z.enum(["start", "now"], { error: () => 'must be "start" or "now"' }).optional(),
    batchSize: z.number().int().min(1).max(10_000).optional(),
    pollMs: z.number().int().min(1).optional(),
    leaseMs: z.number().int().min(100).optional(),
    backoff: z
      .strictObject({
        baseDelayMs: z.number().int().min(0).optional(),
        maxDelayMs: z.number().int().min(0).optional(),
      })
      .optional(),
    onError: z.custom<ConsumeOptions["onError"]>((v) => typeof v === "function").optional(),
    onStoreError: z
      .custom<ConsumeOptions["onStoreError"]>((v) => typeof v === "function")
      .optional(),
    signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal).optional(),
  })
  .prefault({});

/** The feed of one runtime's store; its consumers wake at once on this process's steps. */
export function createEventFeed(deps: {
  store: PayoutStore;
  owner: string;
  onLocalStep: (wake: () => void) => () => void;
}): PayoutEvents {
  const { store } = deps;
  return {
    async read(options) {
      const { after, limit } = parseWith(readSchema, options, "read options", "INVALID_OPTIONS");
      return (await store.readJournal(after, limit)).map(toPayoutEvent);
    },
    consume(name, handler, options) {
      const valid = parseWith(
        z.strictObject({
          name: nameSchema,
          handler: z.custom<EventHandler>(
            (v) => typeof v === "function",
            "must be a function (event) => …",
          ),
          options: consumeSchema,
        }),
        { name, handler, options },
        "consume arguments",
        "INVALID_OPTIONS",
      );
      return startEventConsumer(deps, valid.name, valid.handler, valid.options as ConsumeOptions);
    },
    consumers: () => store.consumers(),
    deadLetters: (consumer) => store.deadLetters(consumer),
    async redeliver(id, deliver) {
      parseWith(z.number().int().min(1), id, "dead letter id", "INVALID_OPTIONS");
      const letter = (await store.deadLetters()).find((l) => l.id === id);
      if (!letter) {
        throw new NotFoundError(
          `No dead letter with id ${id}: redelivered already, or never kept (list them with events.deadLetters()).`,
          "DEAD_LETTER_NOT_FOUND",
        );
      }
      // Positions have no gaps, so the line after seq - 1 is the letter's own line.
      const [line] = await store.readJournal(letter.seq - 1, 1);
      if (!line || line.position !== letter.seq) {
        throw new NotFoundError(
          `Dead letter ${id} names event seq ${letter.seq}, which the journal no longer holds.`,
          "DEAD_LETTER_NOT_FOUND",
        );
      }
      await deliver(toPayoutEvent(line), { ...letter });
      await store.removeDeadLetter(id);
      return letter;
    },
  };
}
