import { z } from "zod";
import { parseWith } from "../domain/validation.js";
import type { CommandOptions, EnqueueOptions } from "./types.js";

const commandOptionsSchema = z
  .strictObject({
    by: z.string().trim().min(1, "must name who asks").max(200).optional(),
    reason: z.string().trim().min(1, "must say why, or be left out").max(1000).optional(),
  })
  .prefault({});

/**
 * Checks who asks for a cancel or a retry and why; they go to the journal (and the events'
 * actor) as given, so they are plain text of a sane length.
 */
export function parseCommandOptions(options: unknown): CommandOptions {
  const valid = parseWith(commandOptionsSchema, options, "command options", "INVALID_OPTIONS");
  return {
    ...(valid.by === undefined ? {} : { by: valid.by }),
    ...(valid.reason === undefined ? {} : { reason: valid.reason }),
  };
}

const enqueueOptionsSchema = z
  .strictObject({
    tx: z
      .custom<unknown>((v) => v !== null && typeof v === "object", {
        error: () => "must be your open transaction (a better-sqlite3 database or a pg client)",
      })
      .optional(),
  })
  .prefault({});

/** Checks `enqueue()`'s options. */
export function parseEnqueueOptions(options: unknown): EnqueueOptions {
  const valid = parseWith(enqueueOptionsSchema, options, "enqueue options", "INVALID_OPTIONS");
  return valid.tx === undefined ? {} : { tx: valid.tx };
}
