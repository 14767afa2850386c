import type { JournalInput } from "../types.js";
import type { Queryable } from "./client.js";

/**
 * Appends one journal line in the caller's transaction. Its `feed_seq` stays null: the feed
 * numbers it after it commits (feed.ts), so this insert takes no lock that would serialise
 * the fleet's saves.
 */
export function appendJournalLine(
  db: Queryable,
  quotedSchema: string,
  key: string,
  version: number,
  entry: JournalInput,
) {
  return db.query(
    `INSERT INTO ${quotedSchema}.journal (key, at, from_state, to_state, event, details, version, owner, view) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      key,
      entry.at,
      entry.from,
      entry.to,
      entry.event,
      JSON.stringify(entry.details),
      version,
      entry.owner,
      entry.view ? JSON.stringify(entry.view) : null,
    ],
  );
}
