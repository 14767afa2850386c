import { describe, expect, test } from "vitest";
import { isValidationError, parsePaymentArgs } from "../../src/domain/index.js";

const good = { amount: "1.5", memo: "Refund", metadata: { orderId: 42, tags: ["a"] }, uid: "u-1" };

describe("payment arguments", () => {
  test("valid arguments come back canonical", () => {
    expect(parsePaymentArgs({ ...good, amount: 1.5 })).toEqual({ ...good, amount: "1.5" });
  });

  const circular: Record<string, unknown> = { a: 1 };
  circular.self = circular;

  test.each([
    ["no amount", { ...good, amount: undefined }, "amount"],
    ["memo a number", { ...good, memo: 5 }, "memo"],
    ["memo empty", { ...good, memo: "  " }, "memo"],
    ["uid empty", { ...good, uid: "" }, "uid"],
    ["uid null", { ...good, uid: null }, "uid"],
    ["metadata an array", { ...good, metadata: [] }, "metadata"],
    ["metadata null", { ...good, metadata: null }, "metadata"],
    ["metadata a string", { ...good, metadata: "x" }, "metadata"],
    ["metadata circular", { ...good, metadata: circular }, "metadata"],
    ["metadata with a function", { ...good, metadata: { f: () => 1 } }, "metadata"],
    ["metadata with undefined", { ...good, metadata: { u: undefined } }, "metadata"],
    ["metadata with a date", { ...good, metadata: { d: new Date() } }, "metadata"],
    ["metadata with NaN", { ...good, metadata: { n: Number.NaN } }, "metadata"],
    ["an unknown key", { ...good, amuont: 1 }, "amuont"],
  ])("%s is a validation error naming %s", (_name, input, field) => {
    let thrown: unknown;
    try {
      parsePaymentArgs(input);
    } catch (error) {
      thrown = error;
    }
    expect(isValidationError(thrown)).toBe(true);
    const issues = (thrown as { issues: Array<{ path: string }> }).issues;
    expect(issues.map((i) => i.path).join(" ")).toContain(field);
  });

  test("every bad field is reported at once", () => {
    try {
      parsePaymentArgs({ amount: -1, memo: 1, metadata: 1, uid: 1 });
      expect.unreachable();
    } catch (error) {
      expect((error as { issues: unknown[] }).issues).toHaveLength(4);
    }
  });
});
