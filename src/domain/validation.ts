import type { z } from "zod";
import { ValidationError, type ValidationIssue } from "./errors.js";

/**
 * Parses input with a schema and turns every problem into one {@link ValidationError}
 * naming each field, so that a caller fixes everything at once.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
  code = "VALIDATION_FAILED",
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
    return [{ path: prefix || what, message: issue.message }];
  });
  // A single custom check (an amount, a seed) already carries its own code and message.
  const [first] = result.error.issues;
  const custom =
    first?.code === "custom" ? (first.params as { code?: string } | undefined)?.code : undefined;
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return throwValidation(
    `Invalid ${what}: ${summary}.`,
    issues,
    issues.length === 1 && custom ? custom : code,
  );
}

function throwValidation(message: string, issues: ValidationIssue[], code: string): never {
  throw new ValidationError(message, issues, code);
}
