import { inspect } from "node:util";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import {
  ChainError,
  clause,
  isChainError,
  isPiApiError,
  isPiPaymentsError,
  PiApiError,
  serializeError,
} from "../../src/domain/index.js";
import { parseWith } from "../../src/domain/validation.js";

describe("errors", () => {
  test("toJSON keeps plain data, and a cause only as name and message", () => {
    const cause = Object.assign(new Error("Request failed"), {
      request: { headers: { Authorization: "Key secret-key" } },
    });
    const error = new PiApiError("Pi refused", "PI_UNKNOWN_ERROR", {
      method: "POST",
      path: "/v2/payments",
      status: 500,
      retryable: true,
      outcomeUnknown: true,
      cause,
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: "PiApiError",
      code: "PI_UNKNOWN_ERROR",
      message: "Pi refused",
      retryable: true,
      details: { status: 500, method: "POST", path: "/v2/payments", outcomeUnknown: true },
      cause: { name: "Error", message: "Request failed" },
    });
    expect(inspect(error, { depth: Number.POSITIVE_INFINITY, showHidden: true })).not.toContain(
      "secret-key",
    );
  });

  test("type guards check the name as well as the class (two copies of the package)", () => {
    const foreign = Object.assign(new Error("x"), { name: "ChainError", code: "TX_BAD_SEQ" });
    expect(isChainError(foreign)).toBe(true);
    expect(isPiPaymentsError(foreign)).toBe(true);
    expect(isPiApiError(foreign)).toBe(false);
    expect(isChainError(new ChainError("y", "TX_BAD_SEQ", {}))).toBe(true);
    expect(isPiPaymentsError(new Error("plain"))).toBe(false);
  });

  test("a message that ends with a full stop joins another sentence without '..'", () => {
    expect(clause("No such endpoint.")).toBe("No such endpoint");
    expect(clause("Done. ")).toBe("Done");
    expect(clause("v1.2")).toBe("v1.2");
    const schema = z.strictObject({ memo: z.string().refine(() => false, "must be kinder.") });
    let thrown: unknown;
    try {
      parseWith(schema, { memo: "x" }, "payment");
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message).toBe("Invalid payment: memo: must be kinder.");
  });

  test("anything thrown serialises", () => {
    expect(serializeError("boom")).toEqual({
      name: "Error",
      code: "UNEXPECTED_ERROR",
      message: "boom",
      retryable: false,
    });
    expect(serializeError(new TypeError("bad")).name).toBe("TypeError");
  });
});
