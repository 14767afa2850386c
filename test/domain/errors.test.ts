import { inspect } from "node:util";
import { describe, expect, test } from "vitest";
import {
  ChainError,
  isChainError,
  isPiApiError,
  isPiPaymentsError,
  PiApiError,
  serializeError,
} from "../../src/domain/index.js";

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
