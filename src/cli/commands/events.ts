import type { Command } from "commander";
import { defaultRelayName, displayUrl, redeliverToWebhook } from "../../events/webhook-relay.js";
import { type RuntimeFlags, withStoreOptions } from "../config.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";
import { deadLetterLine, eventLine } from "../output.js";
import {
  feedFrom,
  type WebhookFlags,
  webhookSecret,
  webhookUrl,
  withWebhookOptions,
} from "../webhook-config.js";

interface EventsFlags extends RuntimeFlags {
  after: number;
  limit?: number;
  follow?: boolean;
  pollMs: number;
  json?: boolean;
  dead?: boolean;
}

/** Events read per request: large enough to be quick, small enough to print as they come. */
const PAGE = 500;

/**
 * `pi-payments events`: the store's event feed, one line per event (`--json`: NDJSON);
 * `--follow` keeps printing new ones (polling `read({ after })`: it holds no durable
 * consumer, so it neither moves nor blocks a relay). `--dead` lists dead letters, and
 * `events redeliver <id>` POSTs one again.
 */
export function eventsCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  const events = withStoreOptions(
    program
      .command("events")
      .description("print the event feed (--follow for new ones; --dead for dead letters)"),
  )
    .option("--after <seq>", "only events after this seq", parseIntOption("after"), 0)
    .option("--limit <n>", "at most this many events", parseIntOption("limit"))
    .option("-f, --follow", "keep printing new events until Ctrl-C")
    .option("--poll-ms <ms>", "with --follow, how often to look", parseIntOption("poll-ms"), 1000)
    .option("--dead", "list dead letters (events a webhook relay gave up on) instead")
    .option("--json", "one JSON object per line (NDJSON)")
    .action(async (flags: EventsFlags) => {
      const { store, events: feed } = feedFrom(flags, env);
      try {
        if (flags.dead) {
          for (const letter of await feed.deadLetters()) {
            io.out(flags.json ? JSON.stringify(letter) : deadLetterLine(letter));
          }
          return;
        }
        const print = (event: Parameters<typeof eventLine>[0]) =>
          io.out(flags.json ? JSON.stringify(event) : eventLine(event));
        let after = flags.after;
        let left = flags.limit ?? Number.POSITIVE_INFINITY;
        const interrupted = flags.follow ? io.untilInterrupted() : undefined;
        let stop = false;
        // Ctrl-C ends the wait between polls at once. One hook for the whole follow, not a
        // race against `interrupted` per poll: each race would leave a reaction on it, kept
        // until Ctrl-C (one a second for as long as the command follows).
        let endWait: (() => void) | undefined;
        void interrupted?.then(() => {
          stop = true;
          endWait?.();
        });
        while (left > 0 && !stop) {
          const page = await feed.read({ after, limit: Math.min(PAGE, left) });
          for (const event of page) print(event);
          after = page.at(-1)?.seq ?? after;
          left -= page.length;
          if (page.length === PAGE) continue;
          if (!interrupted) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, flags.pollMs);
            endWait = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          endWait = undefined;
        }
      } finally {
        await store.close();
      }
    });

  withWebhookOptions(
    events
      .command("redeliver")
      .description("POST a dead letter to its receiver again now; removed once answered 2xx")
      .configureHelp({ showGlobalOptions: true }),
  )
    .argument("<id>", "the dead letter's id (see events --dead)", parseIntOption("id"))
    .action(async (id: number, _flags: WebhookFlags, command: Command) => {
      // The store flags and --json are the parent's: commander reads them on either side.
      const flags = command.optsWithGlobals() as WebhookFlags & EventsFlags;
      const url = webhookUrl(flags, env);
      const secret = webhookSecret(env);
      const { store, events: feed } = feedFrom(flags, env);
      try {
        const target = { url, secret, timeoutMs: flags.timeout ?? 10_000 };
        const letter = await redeliverToWebhook(feed, id, {
          ...target,
          name: flags.name ?? defaultRelayName(url),
        });
        io.out(
          flags.json
            ? JSON.stringify(letter)
            : `redelivered dead letter #${letter.id} (event seq ${letter.seq}) to ${displayUrl(url)}`,
        );
      } finally {
        await store.close();
      }
    });
}
