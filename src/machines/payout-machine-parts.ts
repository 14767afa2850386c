import { assign } from "xstate";
import type { PayoutUpdate } from "./payout-updates.js";
import type { PayoutCommand, PayoutContext } from "./types.js";

/* The building blocks the payout machine's states are written with. */

/** xstate's `assign` of each update, under its name. */
export function assignEach<K extends string>(updates: Record<K, PayoutUpdate>) {
  const assigned = Object.fromEntries(
    Object.entries<PayoutUpdate>(updates).map(([name, update]) => [
      name,
      // The actor type param is left open: an update never spawns.
      // biome-ignore lint/suspicious/noExplicitAny: see above.
      assign<PayoutContext, PayoutCommand, undefined, PayoutCommand, any>(({ context, event }) =>
        update(context, event),
      ),
    ]),
  );
  return assigned as Record<K, (typeof assigned)[string]>;
}

/**
 * An orphan (adopted with no record of ours) may have an envelope in flight from the process
 * that lost it: no new one is built before the chain's time has passed its possible bound.
 */
export function orphanNotBefore(context: PayoutContext): number | null {
  if (context.orphanSince === undefined || context.orphanSince === null) return null;
  return Math.ceil((context.orphanSince + (context.timing.envelopeLifetimeMs ?? 120_000)) / 1000);
}

/**
 * A state that waits for the durable deadline in context (`retryAt`, set by the backoff
 * that led here), then goes on. Seven states of the machine are this, with their own
 * commands or checks on top.
 */
export function backoffState<Then>(id: string, then: Then) {
  return {
    invoke: {
      id,
      src: "wait" as const,
      input: ({ context }: { context: PayoutContext }) => ({ until: context.retryAt ?? 0 }),
      onDone: then,
    },
  };
}

/**
 * What a known fate of the envelope leads to, wherever it is looked at: landed, completes;
 * dead too often, asks a person; dead, a new envelope after a backoff. A pending or unknown
 * fate is left to each caller (resend, or keep waiting).
 */
export const whenFateKnown = [
  { guard: "landed", target: "#payout.txStored", actions: "storeLanded" },
  {
    guard: "deadTooOften",
    target: "#payout.failed.releasing",
    actions: ["buryTransaction", "failNotLanding"],
  },
  {
    guard: "dead",
    target: "#payout.stored.backoff",
    actions: ["buryTransaction", "scheduleBackoff"],
  },
] as const;

/** The input of an effect that looks at or sends the envelope on record. */
export const envelopeInput = ({ context }: { context: PayoutContext }) => ({
  key: context.key,
  transaction: context.transaction!,
});
/** The input of an effect on the Pi payment on record. */
export const paymentInput = ({ context }: { context: PayoutContext }) => ({
  key: context.key,
  paymentId: context.paymentId ?? "",
});
