import type { PayoutMachine } from "../machines/payout-machine.js";
import type { PayoutSnapshot } from "../machines/step.js";
import type { Scrubber } from "./scrub.js";

/** What the runtime tells an inspector: the subset of @statelyai/inspect's `Inspector` it calls. */
export interface InspectorLike {
  /** `actor` carries the machine's config, from which @statelyai/inspect sends its definition. */
  actor(actor: string | { sessionId: string; logic: { config: unknown } }, snapshot?: object): void;
  /** An event the payout received. */
  event(
    actor: string,
    event: { type: string; [key: string]: unknown },
    info?: { source?: string },
  ): void;
  /** The payout's snapshot after it. */
  snapshot(actor: string, snapshot: object, info?: { event?: { type: string } }): void;
  /** Disconnects. */
  stop?(): void;
}

/**
 * `true` connects to a local inspector server at ws://localhost:8080 (start one with
 * `pi-payments … --inspect`); `{ url }` to another; or pass any inspector object.
 */
export type InspectOption = boolean | { url: string } | InspectorLike;

/** Reports payouts to an inspector, each as an actor of the payout machine. */
export interface PayoutInspection {
  transition(
    key: string,
    event: string,
    details: Record<string, unknown>,
    snapshot: PayoutSnapshot,
  ): void;
  stop(): void;
}

/**
 * Connects payouts to the Stately inspector. The runtime steps its machines with xstate's
 * pure `transition()`, so it reports actors, events and snapshots itself, each scrubbed of
 * secrets first (DESIGN P6); the machine's definition goes along so the inspector draws it.
 */
export async function createPayoutInspection(
  option: Exclude<InspectOption, false>,
  machine: PayoutMachine,
  scrub: Scrubber,
): Promise<PayoutInspection> {
  let inspector: InspectorLike;
  if (
    option === true ||
    (typeof option === "object" && "url" in option && typeof option.url === "string")
  ) {
    const { createWebSocketInspector } = await import("@statelyai/inspect");
    const url = option === true ? "ws://localhost:8080" : option.url;
    // The machine's definition is deep: keep all of it.
    inspector = createWebSocketInspector({
      url,
      serializationDepthLimit: 40,
    }) as unknown as InspectorLike;
  } else {
    inspector = option as InspectorLike;
  }
  const known = new Set<string>();
  const view = (snapshot: PayoutSnapshot) =>
    scrub({
      status: snapshot.status,
      value: snapshot.value,
      context: snapshot.context,
      output: snapshot.output,
    });

  return {
    transition(key, event, details, snapshot) {
      try {
        if (!known.has(key)) {
          known.add(key);
          inspector.actor({ sessionId: key, logic: { config: machine.config } }, view(snapshot));
          if (event === "PAY" || event === "ADOPT") return;
        }
        const inspected = scrub({ type: event, ...details });
        inspector.event(key, inspected);
        inspector.snapshot(key, view(snapshot), { event: { type: event } });
      } catch {
        // The inspector is a window on the payouts, never a reason for one to fail.
      }
    },
    stop() {
      inspector.stop?.();
    },
  };
}
