import type { Command } from "commander";
import { ConfigurationError, headline, isPiPaymentsError } from "../../domain/errors.js";
import type { Payout, PayoutStep } from "../../runtime/index.js";
import type { PayoutStore } from "../../storage/index.js";
import { type RuntimeFlags, runtimeFrom, withRuntimeOptions } from "../config.js";
import { startInspector, withInspector } from "../inspect.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";
import { payoutDetails } from "../output.js";

/** Exit code of `pay --timeout` when it stopped waiting: the payout is saved and goes on later. */
export const PAY_TIMED_OUT_EXIT_CODE = 5;

/** Exit codes of commands that end with a payout: 0 completed, 3 failed (a person must act), 4 cancelled. */
export function exitCodeFor(state: string): number {
  return state === "completed" ? 0 : state === "cancelled" ? 4 : 3;
}

/** `pi-payments pay`: pays one user once per key and waits until the payout rests. */
export function payCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withRuntimeOptions(
    program
      .command("pay")
      .description(
        "pay a user once per key; exits 0 completed, 3 failed (see the reason), 4 cancelled, 5 still going after --timeout",
      )
      .requiredOption("--key <key>", "your idempotency key for this payout, e.g. refund-order-42")
      .requiredOption("--uid <uid>", "the user's app-specific uid")
      .requiredOption("--amount <pi>", 'amount of Pi, e.g. "3.14"')
      .requiredOption("--memo <text>", "a short text shown to the user")
      .option("--metadata <json>", "your JSON object, returned by Pi as given", "{}")
      .option(
        "--timeout <seconds>",
        "stop waiting after this long (exit 5); the payout is saved and goes on later",
        parseIntOption("timeout"),
      )
      .option("--json", "print the payout as JSON"),
  ).action(
    async (
      flags: RuntimeFlags & {
        key: string;
        uid: string;
        amount: string;
        memo: string;
        metadata: string;
        timeout?: number;
        json?: boolean;
      },
    ) => {
      let metadata: unknown;
      try {
        metadata = JSON.parse(flags.metadata);
      } catch {
        throw new ConfigurationError(
          `--metadata must be a JSON object, got ${flags.metadata}.`,
          "INVALID_METADATA",
        );
      }
      const inspector = await startInspector(io, flags.inspect, env);
      const { payouts, store, storeText } = await withInspector(inspector, (options) =>
        runtimeFrom(flags, env, options),
      );
      // Retries are otherwise silent for minutes of backoff: say each one as it happens.
      payouts.subscribe((event) => {
        void stepLine(event, store, flags.key).then((line) => line && io.err(line));
      });
      const signal =
        flags.timeout === undefined ? undefined : AbortSignal.timeout(flags.timeout * 1000);
      /** Says where an unsettled payout stands, and how to follow it; exits 5. */
      const notSettled = async (why: string) => {
        const current = await payouts.get(flags.key).catch(() => undefined);
        if (current) io.out(flags.json ? JSON.stringify(current) : payoutDetails(current));
        io.err(
          `${why}: payout ${flags.key}${current ? ` (now ${current.stateDetail})` : ""} is saved in ${storeText} and goes on when \`pi-payments resume\` or a \`pi-payments worker\` drives it (this process no longer does). Follow it with: pi-payments status ${flags.key}`,
        );
        process.exitCode = PAY_TIMED_OUT_EXIT_CODE;
      };
      // Node exits once nothing is left to wait for, even while pay() is still pending (an
      // HTTP client whose request neither answers nor fails): never as if it had succeeded.
      const stalled = () => {
        void notSettled("pay could not wait any longer (a request neither answered nor failed)");
      };
      process.once("beforeExit", stalled);
      try {
        let payout: Payout;
        try {
          payout = await payouts.pay(
            {
              key: flags.key,
              uid: flags.uid,
              amount: flags.amount,
              memo: flags.memo,
              metadata: metadata as Record<string, unknown>,
            },
            signal ? { signal } : {},
          );
        } catch (error) {
          if (!signal?.aborted || !isWaitAborted(error)) throw error;
          await notSettled(`pay stopped waiting after ${flags.timeout} s`);
          return;
        }
        io.out(flags.json ? JSON.stringify(payout) : payoutDetails(payout));
        process.exitCode = exitCodeFor(payout.state);
        await inspector.keepOpen();
      } finally {
        process.off("beforeExit", stalled);
        await payouts.close();
        await store.close();
        await inspector.stop();
      }
    },
  );
}

/** The abort of `pay`'s wait: the typed error the runtime throws, or the signal's own reason. */
function isWaitAborted(error: unknown): boolean {
  if (isPiPaymentsError(error)) return error.code === "PAY_WAIT_ABORTED";
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/** States where a payout waits before trying again. */
const WAITING = /\.(backoff|waiting|waitingForBound|awaitingCreate)$/;

/** What a wait without an error waits for, by state. */
const WAITS_FOR: Record<string, string> = {
  "submitted.waiting":
    "no answer says whether the transaction landed; the same envelope is sent again",
  "submitted.waitingForBound":
    "the transaction may still land; it is looked up again until its time bound has passed",
  "created.awaitingCreate": "a create request may still make a Pi payment; it is looked up again",
};

/**
 * The stderr line for a step that met an error or backs off, e.g. "retrying in 2 s: Pi
 * could not be reached (POST /v2/payments) (PI_UNREACHABLE)"; undefined for other steps.
 * A line about another payout (one this process took over) starts with its key.
 */
export async function stepLine(
  event: PayoutStep,
  store: PayoutStore,
  ownKey?: string,
): Promise<string | undefined> {
  const failed = event.event.endsWith(".error");
  const waitsFor = event.event.endsWith(".done") ? WAITS_FOR[event.to] : undefined;
  if (!failed && waitsFor === undefined) return undefined;
  const error = failed ? (event.payout.lastError ?? event.payout.failure?.error) : undefined;
  const why = error ? `${headline(error.message)} (${error.code})` : waitsFor;
  const whose = ownKey === undefined || event.key === ownKey ? "" : `${event.key}: `;
  if (!WAITING.test(event.to))
    return `${whose}${event.to.startsWith("failed") ? "failed" : `now ${event.to}`}: ${why}`;
  return `${whose}retrying ${await delayText(event, store)}: ${why}`;
}

/** "in 2 s", from the deadline the payout saved with this step. */
async function delayText(event: PayoutStep, store: PayoutStore): Promise<string> {
  const stored = await store.get(event.key).catch(() => undefined);
  const retryAt = stored?.version === event.payout.version ? stored.snapshot.context.retryAt : null;
  if (retryAt === null || retryAt === undefined) return "soon";
  const ms = Math.max(0, retryAt - Date.parse(event.at));
  return `in ${ms < 1000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;
}
