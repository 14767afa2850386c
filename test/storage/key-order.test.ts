import fc from "fast-check";
import { expect, test } from "vitest";
import { compareKeys } from "../../src/storage/key-order.js";

const sign = (n: number) => Math.sign(n);
const utf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

test("compareKeys orders keys as their UTF-8 bytes, also across U+FFFF", () => {
  expect(sign(compareKeys("\uFFFF", "😀"))).toBe(-1);
  expect(sign(compareKeys("\uE000", "\u{10000}"))).toBe(-1);
  expect(sign(compareKeys("B", "a"))).toBe(-1);
  expect(compareKeys("ab", "ab")).toBe(0);
  expect(sign(compareKeys("a", "ab"))).toBe(-1);
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
      expect(sign(compareKeys(a, b))).toBe(sign(utf8(a, b)));
    }),
    { numRuns: 2000 },
  );
  // Shared prefixes, where the first difference falls inside or after a surrogate pair.
  const alphabet = fc.constantFrom("a", "\uD7FF", "\uE000", "\uFFFF", "😀", "😁", "\u{10000}");
  fc.assert(
    fc.property(fc.array(alphabet), fc.array(alphabet), (x, y) => {
      expect(sign(compareKeys(x.join(""), y.join("")))).toBe(sign(utf8(x.join(""), y.join(""))));
    }),
    { numRuns: 2000 },
  );
});
