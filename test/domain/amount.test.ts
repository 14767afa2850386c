import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  amountToNumber,
  amountToStroops,
  isValidationError,
  numberToStroops,
  parseAmount,
  parsePaymentArgs,
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

  test.each([
    ["1.12345678", /"1\.12345678" has 8 decimals; at most 7 are allowed/],
    [
      0.1 + 0.2,
      /0\.30000000000000004 \(a number\) has 17 decimals; at most 7 .*pass the amount as a string/,
    ],
    ["-1", /"-1" is negative; an amount must be greater than 0/],
    [-2.5, /-2\.5 \(a number\) is negative/],
    ["0", /"0" is zero; an amount must be greater than 0/],
    ["0.0000000", /"0\.0000000" is zero/],
    [0, /0 \(a number\) is zero/],
    ["abc", /"abc" is not a number; give a decimal number of Pi \(e\.g\. "3\.14"\)/],
    ["", /"" is empty/],
    ["1e3", /"1e3" is in exponent form; write it as a plain decimal \("1000"\)/],
    ["1E-7", /"1E-7" is in exponent form; write it as a plain decimal \("0\.0000001"\)/],
    ["1.5e-8", /exponent form, and as a plain decimal "0\.000000015" has 9 decimals/],
    ["01", /"01" has leading zeros; write "1"/],
    ["00.5", /"00\.5" has leading zeros; write "0\.5"/],
    ["1.", /"1\." ends with a point; write "1"/],
    [".5", /"\.5" has no digit before the point; write "0\.5"/],
    ["+1", /"\+1" has a plus sign; write "1"/],
    ["1,5", /"1,5" has a comma; use a decimal point \("1\.5"\)/],
    [" 1", /" 1" contains spaces; give the number alone \("1"\)/],
    ["2 Pi", /"2 Pi" contains spaces and a unit; give the number alone \("2"\)/],
    [Number.NaN, /must be a finite number, got NaN/],
    [null, /must be a decimal string or a number, got null/],
    [10n, /got a bigint \(10n\); pass it as a string \("10"\)/],
    [
      "922337203685.4775808",
      /larger than the chain can carry \(at most 922337203685\.4775807 Pi\)/,
    ],
  ] as const)("%s is refused saying exactly what is wrong", (input, message) => {
    let thrown: unknown;
    try {
      parseAmount(input);
    } catch (error) {
      thrown = error;
    }
    expect(isValidationError(thrown)).toBe(true);
    const error = thrown as { message: string; issues: Array<{ message: string }> };
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^Invalid amount: .*[^.]\.$/);
    expect(error.issues[0]?.message).toMatch(message);
  });

  test("a payout's amount error names the field once and ends with one full stop", () => {
    expect(() =>
      parsePaymentArgs({ amount: "1.12345678", memo: "m", metadata: {}, uid: "u" }),
    ).toThrowError(
      'Invalid payment: amount: "1.12345678" has 8 decimals; at most 7 are allowed (the smallest amount is 0.0000001 Pi).',
    );
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
