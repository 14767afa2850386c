import type { Command } from "commander";
import { ConfigurationError } from "../domain/errors.js";
import { createEventFeed, type PayoutEvents } from "../events/event-feed.js";
import { defaultOwner } from "../runtime/owner.js";
import type { PayoutStore } from "../storage/types.js";
import { describeStore, openStore, type RuntimeFlags, schemaOf, storeLocation } from "./config.js";
import { parseIntOption } from "./options.js";

/** Flags of the commands that POST to a webhook receiver. */
export interface WebhookFlags {
  url?: string;
  name?: string;
  timeout?: number;
}

/** Adds `--url`, `--name` and `--timeout` (the receiver, the consumer's name, one POST's limit). */
export function withWebhookOptions(command: Command): Command {
  return command
    .option("--url <url>", "the receiver's http(s) URL [env PI_PAYMENTS_WEBHOOK_URL]")
    .option("--name <name>", "the relay's consumer name [default webhook:<host of the url>]")
    .option("--timeout <ms>", "how long one POST may take", parseIntOption("timeout"), 10_000);
}

/**
 * The webhook secret, from `PI_PAYMENTS_WEBHOOK_SECRET` only (a flag would show it in `ps`).
 * Errors name the variable and never repeat its value.
 */
export function webhookSecret(env: NodeJS.ProcessEnv): string {
  const secret = env.PI_PAYMENTS_WEBHOOK_SECRET?.trim();
  if (!secret || secret.length < 16) {
    throw new ConfigurationError(
      secret
        ? "PI_PAYMENTS_WEBHOOK_SECRET is shorter than 16 characters (its value is not shown): export a longer one, e.g. `openssl rand -hex 32`."
        : "PI_PAYMENTS_WEBHOOK_SECRET is not set: export the secret your receiver verifies with (e.g. `openssl rand -hex 32`).",
      "MISSING_WEBHOOK_SECRET",
    );
  }
  return secret;
}

/** The receiver, from `--url` or `PI_PAYMENTS_WEBHOOK_URL`. */
export function webhookUrl(flags: WebhookFlags, env: NodeJS.ProcessEnv): string {
  const url = flags.url ?? env.PI_PAYMENTS_WEBHOOK_URL;
  if (!url || !URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
    throw new ConfigurationError(
      url
        ? "--url (or PI_PAYMENTS_WEBHOOK_URL) must be an http(s) URL."
        : "No receiver: pass --url https://… or export PI_PAYMENTS_WEBHOOK_URL.",
      "MISSING_WEBHOOK_URL",
    );
  }
  return url;
}

/**
 * The event feed of the store named by the flags, without a payouts runtime: reading,
 * relaying and redelivering need no Pi credentials. The store must exist (a wrong path
 * would otherwise relay an empty new database forever).
 */
export function feedFrom(
  flags: RuntimeFlags,
  env: NodeJS.ProcessEnv,
): { store: PayoutStore; events: PayoutEvents; storeText: string } {
  const location = storeLocation(flags, env);
  const schema = schemaOf(flags, env);
  const store = openStore(location, schema, { mustExist: true });
  // No local steps to wake on: the consumers here poll.
  const events = createEventFeed({ store, owner: defaultOwner(), onLocalStep: () => () => {} });
  return { store, events, storeText: describeStore(location, schema) };
}
