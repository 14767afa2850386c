/** Returns a value with every secret replaced; used on everything the runtime stores or emits. */
export type Scrubber = <T>(value: T) => T;

/**
 * Belt and braces for DESIGN P6. Secrets are never put into snapshots, errors or the
 * journal on purpose; this makes sure no third-party message smuggles one in either. The
 * common case (no secret present) costs one JSON serialisation and a substring search.
 */
export function createScrubber(secrets: readonly string[]): Scrubber {
  const needles = secrets.filter((s) => s.length >= 8);
  return <T>(value: T): T => {
    if (value === undefined || needles.length === 0) return value;
    let text = JSON.stringify(value);
    if (!needles.some((s) => text.includes(s))) return value;
    for (const secret of needles) text = text.split(secret).join("[redacted]");
    return JSON.parse(text) as T;
  };
}
