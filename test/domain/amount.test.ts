import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  amountToNumber,
  amountToStroops,
  isValidationError,
  numberToStroops,
  parseAmount,
  stroopsToAmount,
} from "../../src/domain/index.js";

describe("amounts", () => {
  test.each([
    ["3.14", "3.14"],
    ["1", "1"],
    ["0.0000001", "0.0000001"],
    ["10.5000000", "10.5"],
    [3.14, "3.14"],
    [1e-7, "0.0000001"],
    [100, "100"],
    [12345678.1234567, "12345678.1234567"],
  ] as const)("%s is the canonical amount %s", (input, expected) => {
    expect(parseAmount(input)).toBe(expected);
  });

  test.each([
    0,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    0.1 + 0.2,
    1.5e-7,
    "0",
    "-1",
    "1.12345678",
    "1e-7",
    "1E3",
    " 1",
    "1.",
    ".5",
    "01",
    "abc",
    "",
    null,
    undefined,
    [],
    {},
    10n,
    "922337203685.4775808",
    "123456789012.1234567",
  ])("%s is refused with INVALID_AMOUNT", (input) => {
    let thrown: unknown;
    try {
      parseAmount(input);
    } catch (error) {
      thrown = error;
    }
    expect(isValidationError(thrown)).toBe(true);
    expect((thrown as { code: string }).code).toBe("INVALID_AMOUNT");
  });

  test("converting to stroops and back is exact for every amount", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 99_999_999_9_999_999n }), (stroops) => {
        const amount = stroopsToAmount(stroops);
        expect(amountToStroops(parseAmount(amount))).toBe(stroops);
        // And through the JSON number Pi's API takes.
        expect(numberToStroops(amountToNumber(parseAmount(amount)))).toBe(stroops);
      }),
      { numRuns: 2000 },
    );
  });

  test("a float is never trusted: a number with more than 7 decimals has no stroops", () => {
    expect(numberToStroops(0.1 + 0.2)).toBeUndefined();
    expect(numberToStroops(3.14)).toBe(31_400_000n);
    expect(numberToStroops(1e-7)).toBe(1n);
  });
});
