import { describe, expect, test } from "vitest";
import { isValidationError } from "../../src/domain/errors.js";
import { type SandboxOptions, startSandbox } from "../../src/sandbox/index.js";

async function refusal(options: unknown): Promise<Error> {
  const error = await startSandbox(options as SandboxOptions).then(
    async (sandbox) => {
      await sandbox.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(isValidationError(error)).toBe(true);
  return error as Error;
}

describe("sandbox options", () => {
  test("an unknown option, or a fault of an unknown shape, is a validation error naming it", async () => {
    expect((await refusal({ ledgerInterval: 10 })).message).toMatch(/ledgerInterval/);
    expect(
      (await refusal({ faults: [{ route: "GET /", kind: "garble", shape: "xml" }] })).message,
    ).toMatch(/faults\.0\.shape/);
    expect(
      (await refusal({ faults: [{ route: "GET /", kind: "lag", ledgers: 0 }] })).message,
    ).toMatch(/faults\.0\.ledgers/);
    expect((await refusal({ linkForeignTransactions: "yes" })).message).toMatch(
      /linkForeignTransactions/,
    );
  });
});
