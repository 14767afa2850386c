import type { z } from "zod";
import type { ErrorCode } from "./error-catalog.js";
import { clause, ValidationError, type ValidationIssue } from "./errors.js";

/**
 * Parses input with a schema and turns every problem into one {@link ValidationError}
 * naming each field, so that a caller fixes everything at once.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  code: ErrorCode = "VALIDATION_FAILED",
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues: ValidationIssue[] = result.error.issues.flatMap((issue) => {
    const prefix = issue.path.map(String).join(".");
    // Name each unknown key itself: a typo must be easy to spot.
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: prefix ? `${prefix}.${key}` : key,
        message: "is not a known field (a typo?)",
      }));
    }
    // zod says "Invalid input: expected string, received undefined": say it as a person would.
    const received = / received (\w+)$/.exec(issue.message)?.[1];
    const plain =
      issue.code === "invalid_type" && received !== undefined
        ? received === "undefined"
          ? `is required (${issue.expected})`
          : `must be ${article(issue.expected)}, not ${article(received)}`
        : undefined;
    return [{ path: prefix, message: plain ?? issue.message }];
  });
  // A single custom check (an amount, a seed) already carries its own code and message.
  const [first] = result.error.issues;
  const custom =
    first?.code === "custom" ? (first.params as { code?: ErrorCode } | undefined)?.code : undefined;
  // The input itself (no path) is described as `what`, not named twice.
  const summary = issues
    .map((i) => (i.path ? `${i.path}: ${clause(i.message)}` : clause(i.message)))
    .join("; ");
  return throwValidation(
    `Invalid ${what}: ${summary}.`,
    issues,
    issues.length === 1 && custom ? custom : code,
  );
}

function throwValidation(message: string, issues: ValidationIssue[], code: ErrorCode): never {
  throw new ValidationError(message, issues, code);
}

/** "a string", "an object", "a number". */
function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? "an" : "a"} ${type}`;
}
