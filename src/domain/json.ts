/** A JSON value, as stored and as sent to Pi. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/**
 * Why a value cannot go through JSON unchanged, or undefined when it can.
 *
 * Pi returns `metadata` exactly as given and we store it in snapshots, so anything JSON
 * would drop or alter (functions, undefined, NaN, dates, class instances, cycles) is
 * refused up front instead of being silently changed.
 */
export function jsonProblem(
  value: unknown,
  path: string,
  seen = new Set<object>(),
): string | undefined {
  if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
  if (typeof value === "number") {
    return Number.isFinite(value) ? undefined : `${path} is ${value}, which JSON cannot carry`;
  }
  if (typeof value !== "object") return `${path} is a ${typeof value}, which JSON cannot carry`;
  if (seen.has(value)) return `${path} refers back to itself (circular)`;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    return `${path} is a ${proto?.constructor?.name ?? "class instance"}, not a plain object`;
  }
  seen.add(value);
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value);
  for (const [key, child] of entries) {
    const problem = jsonProblem(
      child,
      Array.isArray(value) ? `${path}[${key}]` : `${path}.${key}`,
      seen,
    );
    if (problem !== undefined) return problem;
  }
  seen.delete(value);
  return undefined;
}

/** True for a plain object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
