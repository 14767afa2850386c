import type { PayoutWrite } from "../storage/types.js";

/** Returns a value with every secret replaced; used on everything the runtime stores or emits. */
export interface Scrubber {
  <T>(value: T): T;
  /**
   * The same, with the value's JSON text (of the value returned): the check serialises the
   * value anyway, and a store can write that text instead of serialising it again.
   */
  withJson<T>(value: T): { value: T; json: string };
}

/**
 * Belt and braces for DESIGN P6. Secrets are never put into snapshots, errors or the
 * journal on purpose; this makes sure no third-party message smuggles one in either. The
 * common case (no secret present) costs one JSON serialisation and a substring search.
 */
export function createScrubber(secrets: readonly string[]): Scrubber {
  const needles = secrets.filter((s) => s.length >= 8);
  const withJson = <T>(value: T): { value: T; json: string } => {
    let json = JSON.stringify(value);
    if (!needles.some((s) => json.includes(s))) return { value, json };
    for (const secret of needles) json = json.split(secret).join("[redacted]");
    return { value: JSON.parse(json) as T, json };
  };
  const scrub = <T>(value: T): T => {
    if (value === undefined || needles.length === 0) return value;
    return withJson(value).value;
  };
  return Object.assign(scrub, { withJson });
}

/**
 * A save's write with its snapshot scrubbed, carrying the snapshot's JSON text for the store
 * (see PayoutWrite.snapshotJson): every save and intake writes through here.
 */
export function scrubbedWrite<W extends PayoutWrite>(raw: W, scrub: Scrubber): W {
  const { value, json } = scrub.withJson(raw.snapshot);
  return { ...raw, snapshot: value, snapshotJson: json };
}

/** What a record built from a write keeps of it: everything but the text made for the store. */
export function recordFields(write: PayoutWrite): Omit<PayoutWrite, "snapshotJson"> {
  const { snapshotJson: _text, ...fields } = write;
  return fields;
}
