import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
// The generator runs on the built package, as `npm run docs` does.
import {
  machineDoc,
  machineDocPath,
  readmePath,
  readmeWithErrors,
} from "../../scripts/generate-docs.mjs";
import { errorCatalog, explainError } from "../../src/index.js";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("generated docs", () => {
  test("docs/machine.md is the diagram of the current machine (run npm run docs if not)", () => {
    expect(readFileSync(machineDocPath, "utf8")).toBe(machineDoc());
    expect(machineDoc()).toContain(
      "submitted_sending --> txStored : submitTransaction done [applied]",
    );
  });

  test("the README's errors table is the current catalogue (run npm run docs if not)", () => {
    const readme = readFileSync(readmePath, "utf8");
    expect(readme).toBe(readmeWithErrors(readme));
  });

  test("every error code the source throws is in the catalogue", () => {
    const codes = new Set(errorCatalog.map((e) => e.code));
    const source = spawnSync(
      "grep",
      ["-rhoE", '(code: |, |failure\\()"[A-Z][A-Z0-9_]{3,}"', `${root}src`],
      { encoding: "utf8" },
    ).stdout;
    const thrown = new Set([...source.matchAll(/"([A-Z][A-Z0-9_]{3,})"/g)].map((m) => m[1]!));
    // Event names and Horizon's async statuses are not error codes.
    for (const notCode of [
      "CANCEL",
      "RETRY",
      "PAY",
      "ADOPT",
      "FULL",
      "NORMAL",
      "PENDING",
      "DUPLICATE",
      "ERROR",
      "TRY_AGAIN_LATER",
      "TAKEOVER",
    ]) {
      thrown.delete(notCode);
    }
    expect([...thrown].filter((code) => !codes.has(code))).toEqual([]);
    expect(explainError("OP_UNDERFUNDED")?.code).toBe("TX_* / OP_*");
    expect(explainError("PI_ONGOING_PAYMENT_FOUND")?.source).toBe("OngoingPaymentError");
  });

  test("every export has TSDoc (typedoc validation, warnings are errors)", () => {
    const run = spawnSync(
      process.execPath,
      [`${root}node_modules/typedoc/bin/typedoc`, "--emit", "none"],
      { cwd: root, encoding: "utf8" },
    );
    expect(run.stdout + run.stderr).not.toMatch(/warning|error\]/i);
    expect(run.status).toBe(0);
  }, 180_000);
});
