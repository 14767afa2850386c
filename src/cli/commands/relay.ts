import { type Command, Option } from "commander";
import { createWebhookRelay, type WebhookDeliveryReport } from "../../events/webhook-relay.js";
import { type RuntimeFlags, withStoreOptions } from "../config.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";
import {
  feedFrom,
  type WebhookFlags,
  webhookSecret,
  webhookUrl,
  withWebhookOptions,
} from "../webhook-config.js";

interface RelayFlags extends RuntimeFlags, WebhookFlags {
  maxAttempts: number;
  from: "start" | "now";
  pollMs?: number;
  json?: boolean;
}

/**
 * `pi-payments relay --url URL`: POSTs every event of the store to a webhook receiver until
 * SIGINT or SIGTERM, then lets the POST in flight finish, writes the cursor, releases the
 * name and exits 0. Run it on as many machines as you like: one holds the name, the others
 * stand by and take over when it stops. The secret comes from PI_PAYMENTS_WEBHOOK_SECRET.
 */
export function relayCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withWebhookOptions(
    withStoreOptions(
      program
        .command("relay")
        .description(
          "POST every payout event to a webhook receiver, signed, until stopped (secret: env PI_PAYMENTS_WEBHOOK_SECRET)",
        ),
    ),
  )
    .option(
      "--max-attempts <n>",
      "tries per event before it is dead-lettered",
      parseIntOption("max-attempts"),
      8,
    )
    .addOption(
      new Option("--from <where>", "where a new relay name starts: every event, or new ones")
        .choices(["start", "now"])
        .default("start"),
    )
    .option("--poll-ms <ms>", "how often to look for new events", parseIntOption("poll-ms"))
    .option("--json", "log as JSON lines")
    .action(async (flags: RelayFlags) => {
      const url = webhookUrl(flags, env);
      const secret = webhookSecret(env);
      const { store, events, storeText } = feedFrom(flags, env);
      const log = (message: string, data: Record<string, unknown> = {}) =>
        io.out(
          flags.json ? JSON.stringify({ at: new Date().toISOString(), message, ...data }) : message,
        );
      const onDelivery = (report: WebhookDeliveryReport) => {
        // Successes are counted, not logged: at hundreds a second a line each is noise.
        if (report.outcome === "delivered") return;
        const what =
          report.outcome === "retrying"
            ? `try ${report.attempt} failed (${report.error}); again in ${report.retryInMs} ms`
            : `dead-lettered after ${report.attempt} tries (${report.error}) as #${report.deadLetter?.id}`;
        log(`${report.eventId} (seq ${report.seq}): ${what}`, { ...report });
      };
      const relay = createWebhookRelay(
        { events, store },
        {
          url,
          secret,
          timeoutMs: flags.timeout ?? 10_000,
          maxAttempts: flags.maxAttempts,
          from: flags.from,
          ...(flags.name ? { name: flags.name } : {}),
          ...(flags.pollMs ? { pollMs: flags.pollMs } : {}),
          onDelivery,
          onStoreError: (error) => log(`store error: ${error.message}`, { error }),
        },
      );
      const interrupted = io.untilInterrupted();
      log(`relay ${relay.name} from ${storeText} to ${relay.target}`, {
        name: relay.name,
        target: relay.target,
      });
      await Promise.race([interrupted, relay.done]);
      log("stopping: finishing the POST in flight");
      await relay.stop();
      await store.close();
      const totals = { delivered: relay.delivered, deadLettered: relay.deadLettered };
      log(
        `stopped: ${totals.delivered} delivered, ${totals.deadLettered} dead-lettered, cursor at ${relay.consumer.cursor}`,
        { ...totals, cursor: relay.consumer.cursor },
      );
    });
}
