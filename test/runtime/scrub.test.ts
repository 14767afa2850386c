import { describe, expect, test } from "vitest";
import { createScrubber, scrubbedWrite } from "../../src/runtime/scrub.js";
import type { PayoutWrite } from "../../src/storage/types.js";

const seed = "SBSECRETSEEDSECRETSEEDSECRETSEEDSECRETSEEDSECRETSEEDSE";
const apiKey = "api-key-0123456789";

const writeWith = (context: Record<string, unknown>): PayoutWrite =>
  ({
    snapshot: { status: "active", value: "created", context },
    state: "created",
    stateDetail: "created",
    paymentId: null,
    txid: null,
    atRest: false,
    holdsSlot: true,
    at: "2026-12-04T00:00:00.000Z",
  }) as unknown as PayoutWrite;

describe("the scrubber", () => {
  const scrub = createScrubber([seed, apiKey]);

  test("a value without secrets is handed back as it is, with its JSON", () => {
    const value = { a: 1, b: ["x", null] };
    const { value: same, json } = scrub.withJson(value);
    expect(same).toBe(value);
    expect(json).toBe(JSON.stringify(value));
    expect(scrub(value)).toBe(value);
  });

  test("a secret anywhere is redacted in the value and in its JSON alike", () => {
    const value = { message: `Pi said ${apiKey}`, deep: [{ seed }] };
    const { value: clean, json } = scrub.withJson(value);
    expect(json).not.toContain(apiKey);
    expect(json).not.toContain(seed);
    expect(json).toContain("[redacted]");
    expect(JSON.parse(json)).toEqual(clean);
    expect(JSON.stringify(scrub(value))).toBe(json);
  });

  test("a save's write carries the JSON of exactly the snapshot it stores", () => {
    for (const context of [{ note: "plain" }, { lastError: { message: `bad key ${apiKey}` } }]) {
      const write = scrubbedWrite(writeWith(context), scrub);
      expect(write.snapshotJson).toBe(JSON.stringify(write.snapshot));
      expect(write.snapshotJson).not.toContain(apiKey);
    }
  });
});
