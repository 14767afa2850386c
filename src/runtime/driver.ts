import { setTimeout as sleep } from "node:timers/promises";
import { LifecycleError, NotFoundError, PiPaymentsError } from "../domain/errors.js";
import type { PayoutStore, StoredPayout } from "../storage/types.js";
import type { LeaseClaims } from "./lease-claims.js";
import type { RunnerRegistry } from "./runner-registry.js";
import type { Command, RunEnd } from "./runner-types.js";

/** Options of {@link Driver.untilAtRest}. */
export interface UntilAtRestOptions {
  /** The payout was just created here: nothing was ever acted on, nothing to replay. */
  fresh?: boolean;
  /** This runtime already holds the payout's lease (it created it leased). */
  leased?: boolean;
  /** Stops waiting (the payout goes on). */
  signal?: AbortSignal;
  /** Called once the payout is taken up: driven here, found at rest, or found driven elsewhere. */
  onTakenUp?: () => void;
}

/** Drives payouts here when nobody else does, and watches them when somebody does. */
export interface Driver {
  /**
   * Resolves with the payout once it rests: driven here if its lease is free (or its
   * holder provably died), watched while another process drives it.
   * @throws PiPaymentsError `PAY_WAIT_ABORTED` when the signal aborts
   */
  untilAtRest(key: string, options?: UntilAtRestOptions): Promise<StoredPayout>;
  /**
   * Delivers a person's command, driving the payout here if nobody else does; resolves
   * whether the machine took it.
   * @throws LifecycleError `PAYOUT_BUSY` while another live process drives it
   */
  command(key: string, command: Command): Promise<boolean>;
}

/** The driver of one runtime. */
export function createDriver(deps: {
  store: PayoutStore;
  runners: RunnerRegistry;
  claims: LeaseClaims;
  pollMs: number;
}): Driver {
  const { store, runners, claims, pollMs } = deps;

  const waitFor = async (run: Promise<RunEnd>, key: string, signal?: AbortSignal) =>
    signal ? abortable(run, signal, key) : run;

  return {
    async untilAtRest(key, options = {}) {
      const { signal, onTakenUp = () => {} } = options;
      let claimed = options.leased ?? false;
      for (;;) {
        if (signal?.aborted) throw waitAborted(key, signal.reason);
        runners.ensureOpen();
        const local = runners.get(key);
        if (local) {
          onTakenUp();
          const end = await waitFor(local.done, key, signal);
          if (end.status === "at rest") return end.payout;
          if (end.reason === "crashed")
            throw new PiPaymentsError("The runtime stopped (crash).", { code: "CLOSED" });
          continue;
        }
        const current = await store.get(key);
        if (!current) throw new NotFoundError(`No payout with key ${key} in this store.`);
        if (current.atRest) {
          onTakenUp();
          return current;
        }
        if (claimed || (await claims.claim(current))) {
          claimed = false;
          const latest = (await store.get(key)) ?? current;
          if (!runners.has(key))
            runners.start(latest, { fresh: (options.fresh ?? false) && latest.version === 1 });
          continue;
        }
        // Driven by another process: watch it.
        onTakenUp();
        await (signal
          ? sleep(pollMs, undefined, { signal }).catch(() => {
              throw waitAborted(key, signal.reason);
            })
          : sleep(pollMs));
      }
    },

    async command(key, command) {
      runners.ensureOpen();
      const local = runners.get(key);
      if (local) return local.send(command);
      const current = await store.get(key);
      if (!current) throw new NotFoundError(`No payout with key ${key} in this store.`);
      const claimed = await claims.claim(current);
      // Taken over from a dead runner: its runner is already going here.
      const running = runners.get(key);
      if (running) return running.send(command);
      if (!claimed) {
        const lease = current.lease;
        throw new LifecycleError(
          `Payout ${key} is being driven by another process${lease ? ` (${lease.owner}, lease until ${lease.expiresAt})` : ""}; ${command.type.toLowerCase()} it there, or once it stops.`,
          { code: "PAYOUT_BUSY" },
        );
      }
      const record = (await store.get(key)) ?? current;
      return new Promise<boolean>((resolve) =>
        runners.start(record, { fresh: false, commands: [{ event: command, resolve }] }),
      );
    },
  };
}

/** Waiting stopped, not the payout: say how to follow it. */
function waitAborted(key: string, reason: unknown): PiPaymentsError {
  return new PiPaymentsError(
    `Stopped waiting for payout ${key}; the payout goes on. Follow it with payouts.get("${key}") or \`pi-payments status ${key}\`.`,
    { code: "PAY_WAIT_ABORTED", cause: reason, details: { key } },
  );
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(waitAborted(key, signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
