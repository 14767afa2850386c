import { describe, expect, test } from "vitest";
import {
  type AnyStateNode,
  getAdjacencyMap,
  getShortestPaths,
  toDirectedGraph,
} from "xstate/graph";
import { createPiChain, createPiPlatform } from "../../src/adapters/index.js";
import type { SignedTransaction } from "../../src/adapters/types.js";
import { StorageError } from "../../src/domain/index.js";
import {
  describeState,
  type PayoutSnapshot,
  payoutMachine,
  pendingEffect,
  persistPayout,
  restorePayout,
  startPayout,
} from "../../src/machines/index.js";
import { LeaseKeeper } from "../../src/runtime/lease-keeper.js";
import { MachineRunner } from "../../src/runtime/machine-runner.js";
import { payoutDurableMachine } from "../../src/runtime/payout-durable-machine.js";
import { createPayoutEffects } from "../../src/runtime/payout-effects.js";
import type { Probe } from "../../src/runtime/runner-types.js";
import { createScrubber } from "../../src/runtime/scrub.js";
import { SlotGate } from "../../src/runtime/slot-gate.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import type { PayoutStore } from "../../src/storage/types.js";
import { testSandbox } from "../helpers/sandbox.js";
import {
  type ModelEvent,
  modelEvents,
  modelInput,
  modelKey,
  modelState,
  outcomeOf,
} from "./payout-model.js";

type Step = { event: ModelEvent; state: PayoutSnapshot };

const traversal = {
  input: modelInput("GMODELWALLET"),
  events: (snapshot: unknown) => modelEvents(snapshot as PayoutSnapshot),
  serializeState: (snapshot: unknown) => modelState(snapshot as PayoutSnapshot),
  serializeEvent: (event: unknown) => (event as ModelEvent).outcome ?? (event as ModelEvent).type,
};

const adjacency = getAdjacencyMap(payoutMachine, traversal as never);
const shortest = new Map(
  getShortestPaths(payoutMachine, traversal as never).map((path) => [
    modelState(path.state as PayoutSnapshot),
    path,
  ]),
);

/** Every model edge: a state, an outcome, and the state it leads to. */
const edges = Object.values(adjacency).flatMap((vertex) =>
  Object.values(vertex.transitions as Record<string, { event: unknown; state: unknown }>).map(
    (t) => ({
      from: vertex.state as PayoutSnapshot,
      event: t.event as ModelEvent,
      to: t.state as PayoutSnapshot,
    }),
  ),
);

/** The machine's own transition definitions, as `source --event--> target`. */
const machineTransitions = (() => {
  const list = listMachineTransitions();
  return () => list;
})();

function listMachineTransitions(): string[] {
  const found: string[] = [];
  const walk = (node: ReturnType<typeof toDirectedGraph>) => {
    for (const edge of node.edges)
      found.push(`${edge.source.id} --${edge.label.text}--> ${edge.target.id}`);
    for (const child of node.children) walk(child);
  };
  walk(toDirectedGraph(payoutMachine));
  // toDirectedGraph leaves out eventless transitions; the machine has one.
  found.push("payout.stored.signing --always--> payout.stored.cancelling");
  return [...new Set(found)];
}

function activeIds(snapshot: { value: unknown }): string[] {
  const ids: string[] = [];
  const walk = (node: AnyStateNode, value: unknown) => {
    const entries =
      typeof value === "string" ? [[value, undefined]] : Object.entries(value as object);
    for (const [key, inner] of entries) {
      const child = node.states[key as string];
      if (!child) continue;
      ids.push(child.id);
      if (inner !== undefined) walk(child, inner);
    }
  };
  walk(payoutMachine.root, snapshot.value);
  return ids;
}

const transitionsByEdge = new Map<(typeof edges)[number], string[]>();

/** The machine transitions a model edge exercises. */
function transitionsOf(edge: (typeof edges)[number]): string[] {
  let known = transitionsByEdge.get(edge);
  if (!known) {
    known = computeTransitionsOf(edge);
    transitionsByEdge.set(edge, known);
  }
  return known;
}

function computeTransitionsOf(edge: (typeof edges)[number]): string[] {
  const from = activeIds(edge.from);
  const to = activeIds(edge.to);
  const hits = machineTransitions().filter((key) => {
    const [source, rest] = key.split(" --");
    const [label, target] = rest!.split("--> ");
    if (label === "always") return false;
    return label === edge.event.type && from.includes(source!) && to.includes(target!);
  });
  const viaAlways =
    from.includes("payout.created.creating") && to.includes("payout.stored.cancelling")
      ? ["payout.stored.signing --always--> payout.stored.cancelling"]
      : [];
  return [...hits, ...viaAlways];
}

const allStateIds = (() => {
  const ids: string[] = [];
  const walk = (node: AnyStateNode) => {
    for (const child of Object.values(node.states)) {
      ids.push(child.id);
      walk(child);
    }
  };
  walk(payoutMachine.root);
  return ids;
})();

/** For every machine transition, the shortest path that takes it; then only paths no other one extends. */
function pathsToCheck(): Array<{ name: string; steps: Step[] }> {
  const chosen = new Map<string, Step[]>();
  for (const transition of machineTransitions()) {
    let best: Step[] | undefined;
    for (const edge of edges) {
      if (!transitionsOf(edge).includes(transition)) continue;
      const prefix = shortest.get(modelState(edge.from));
      if (!prefix) continue;
      const steps = [...(prefix.steps as Step[]), { event: edge.event, state: edge.to }];
      if (!best || steps.length < best.length) best = steps;
    }
    if (best) chosen.set(transition, best);
  }
  const signature = (steps: Step[]) =>
    steps.map((s) => s.event.outcome ?? s.event.type).join(" > ");
  const all = [...chosen.entries()].map(([name, steps]) => ({
    name,
    steps,
    sig: signature(steps),
  }));
  return all
    .filter(
      (p) =>
        !all.some((q) => q !== p && q.sig.length > p.sig.length && q.sig.startsWith(`${p.sig} > `)),
    )
    .filter((p, i, list) => list.findIndex((q) => q.sig === p.sig) === i)
    .map(({ name, steps, sig }) => ({ name: `${name}: ${sig}`, steps }));
}

describe("the payout machine, explored as a model (xstate/graph)", () => {
  test("every state of the machine is reached", () => {
    const reached = new Set(
      edges.flatMap((edge) => [...activeIds(edge.from), ...activeIds(edge.to)]),
    );
    expect(allStateIds.filter((id) => !reached.has(id))).toEqual([]);
  });

  test("every transition of the machine is taken", () => {
    const taken = new Set(edges.flatMap(transitionsOf));
    expect(machineTransitions().filter((t) => !taken.has(t))).toEqual([]);
  });

  test("no path reaches a second envelope while the first may still land (P3)", () => {
    // A new envelope is built only in stored.signing; entering it with an envelope on
    // record is only allowed from a fate that said "dead".
    for (const edge of edges) {
      const before = describeState(edge.from).detail;
      const after = describeState(edge.to).detail;
      if (before.startsWith("submitted") && after.startsWith("stored")) {
        expect(edge.event.outcome).toBe("dead");
      }
    }
  });

  test("no path signs for a payment that did not match the intent (P5)", () => {
    for (const edge of edges) {
      if (edge.event.outcome === "createdMismatched")
        expect(describeState(edge.to).detail).toBe("created.rejecting");
    }
  });
});

const paths = pathsToCheck();

describe("each path of the model, checked against the sandbox", () => {
  test("the paths cover every transition", () => {
    expect(paths.length).toBeGreaterThan(20);
  });

  test.each(paths.map((p) => [p.name, p.steps] as const))("%s", async (_name, steps) => {
    const sandbox = await testSandbox({ linkLagMs: "never" });
    const closer = setInterval(() => {
      if (sandbox.chain.pendingCount() > 0) sandbox.chain.closeLedger();
    }, 2);
    const uid = sandbox.users[0]!.uid;
    const platform = createPiPlatform({
      apiKey: sandbox.apiKey,
      baseUrl: sandbox.apiUrl,
      retry: false,
    });
    const chain = createPiChain({
      network: sandbox.network,
      walletSeed: sandbox.walletSeed,
      horizonUrl: sandbox.horizonUrl,
    });
    const memory = createMemoryStore();
    let failSlot = false;
    const store: PayoutStore = {
      ...memory,
      acquireSlot: async (scope, key) => {
        if (failSlot) {
          failSlot = false;
          throw new StorageError("The store is down.", {
            code: "STORAGE_UNAVAILABLE",
            retryable: true,
          });
        }
        return memory.acquireSlot(scope, key);
      },
    };
    const slots = new SlotGate(store, 5);
    // A virtual clock: arrangements move it (a wait's deadline, a grace period) instead of sleeping.
    let offset = 0;
    const now = () => Date.now() + offset;
    const advanceClockTo = (ms: number) => {
      offset += Math.max(0, ms - now());
    };
    const real = createPayoutEffects({ platform, chain, store, slots, now });
    let failSubmit = false;
    const effects = {
      ...real,
      submitTransaction: async (...args: Parameters<typeof real.submitTransaction>) => {
        if (failSubmit) {
          failSubmit = false;
          throw new Error("The chain adapter broke.");
        }
        return real.submitTransaction(...args);
      },
    };
    const initial = startPayout(modelInput(sandbox.walletAddress, uid));
    const { state, detail } = describeState(initial);
    const at = new Date().toISOString();
    await store.create(
      {
        key: modelKey,
        intent: initial.context.intent,
        write: {
          snapshot: persistPayout(initial),
          state,
          stateDetail: detail,
          paymentId: null,
          txid: null,
          atRest: false,
          holdsSlot: true,
          at,
        },
      },
      { at, from: null, to: detail, event: "PAY", details: {}, owner: "model" },
    );

    let index = 1;
    let deferred: Step | undefined;
    const mismatches: string[] = [];
    let runner: MachineRunner<PayoutSnapshot> | undefined;
    const current = async () => restorePayout((await store.get(modelKey))!.snapshot);
    const isCommand = (step: Step | undefined) =>
      step?.event.type === "CANCEL" || step?.event.type === "RETRY";
    const command = (step: Step) => ({
      type: step.event.type as "CANCEL" | "RETRY",
      at: Date.now(),
    });

    const probe: Probe = async (point) => {
      if (point.point === "save:end") {
        const expected = steps[index];
        const saved = await current();
        if (!expected || modelState(saved) !== modelState(expected.state)) {
          mismatches.push(
            `step ${index}: expected ${expected ? modelState(expected.state) : "nothing"}, got ${modelState(saved)}`,
          );
          runner?.stop("closed");
          return;
        }
        index += 1;
        if (index >= steps.length) runner?.stop("closed");
        else if (isCommand(steps[index])) {
          const after = steps[index + 1];
          const duringNextEffect =
            after && outcomeOf(steps[index]!.state, after.event)?.commandDuringEffect;
          if (duringNextEffect) deferred = steps[index];
          else void runner?.send(command(steps[index]!));
        }
      }
      if (point.point === "effect:start") {
        const commandFirst = deferred;
        const step = commandFirst ? steps[index + 1] : steps[index];
        const snapshot = await current();
        const outcome =
          step && !isCommand(step)
            ? outcomeOf(commandFirst ? commandFirst.state : snapshot, step.event)
            : undefined;
        if (!outcome) {
          mismatches.push(
            `step ${index}: the runner started ${point.effect}, the path expected ${step?.event.outcome}`,
          );
          runner?.stop("closed");
          return;
        }
        sandbox.clearFaults();
        await outcome.arrange({
          sandbox,
          snapshot,
          uid,
          failNextSlot: () => (failSlot = true),
          failNextSubmit: () => (failSubmit = true),
          advanceClockTo,
          input: pendingEffect(snapshot)?.input,
        });
        if (commandFirst) {
          deferred = undefined;
          void runner?.send(command(commandFirst));
        }
      }
    };

    const deps = {
      machine: payoutDurableMachine({
        machine: payoutMachine,
        effects,
        giveBack: (transaction: SignedTransaction) => chain.giveBack(transaction),
      }),
      store,
      owner: "model",
      leaseMs: 60_000,
      leases: new LeaseKeeper(store, "model", 60_000),
      now,
      scrub: createScrubber([sandbox.apiKey, sandbox.walletSeed]),
      probe,
      onStep: () => {},
      onSlotFreed: (scope: string) => slots.notify(scope),
    };
    try {
      let fresh = true;
      while (index < steps.length && mismatches.length === 0) {
        await store.claim(modelKey, "model", 60_000);
        const before = index;
        const commands = isCommand(steps[index])
          ? [{ event: command(steps[index]!), resolve: () => {} }]
          : [];
        runner = new MachineRunner(deps, (await store.get(modelKey))!, { fresh, commands });
        fresh = false;
        const end = await runner.done;
        if (index === before) mismatches.push(`step ${index}: the runner made no step`);
        if (end.status === "stopped" && end.reason !== "closed")
          mismatches.push(`runner stopped: ${end.reason}`);
        if (end.status === "at rest" && index < steps.length && !isCommand(steps[index])) {
          mismatches.push(
            `settled in ${end.payout.stateDetail} with the path unfinished at step ${index}`,
          );
        }
      }
    } finally {
      clearInterval(closer);
    }
    expect(mismatches).toEqual([]);

    // The sandbox's own record: never two payments for one Pi payment, and a completed
    // payout is exactly what Pi and the ledger hold.
    const payout = (await store.get(modelKey))!;
    const byMemo = new Map<string, number>();
    for (const paid of sandbox.ledgerPayments())
      byMemo.set(paid.memo ?? "", (byMemo.get(paid.memo ?? "") ?? 0) + 1);
    for (const count of byMemo.values()) expect(count).toBe(1);
    if (payout.state === "completed") {
      const pi = sandbox.payments().find((p) => p.identifier === payout.paymentId)!;
      expect(pi.status.developer_completed).toBe(true);
      expect(pi.transaction?.txid).toBe(payout.txid);
      expect(sandbox.ledgerPayments().filter((p) => p.memo === payout.paymentId)).toHaveLength(1);
    }
    if (payout.state === "cancelled" && payout.paymentId) {
      expect(
        sandbox.payments().find((p) => p.identifier === payout.paymentId)?.status.cancelled,
      ).toBe(true);
      expect(sandbox.ledgerPayments().filter((p) => p.memo === payout.paymentId)).toHaveLength(0);
    }
  });
});
