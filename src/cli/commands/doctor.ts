import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { checkSetup, type SetupCheck, type SetupReport } from "../../runtime/setup-check.js";
import { createMemoryStore } from "../../storage/memory-store.js";
import {
  isPostgresUrl,
  type RuntimeFlags,
  setupFrom,
  storeLocation,
  withStoreOptions,
} from "../config.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";

/** Exit code of `doctor` when a check failed (0 when all passed, 1 for a bad setting). */
export const DOCTOR_FAILED_EXIT_CODE = 2;

/**
 * `pi-payments doctor`: checks the configuration the other commands would use (API key,
 * network, wallet and balance, store) in a few seconds, before a payout finds out the slow way.
 */
export function doctorCommand(program: Command, io: CliIo, env: NodeJS.ProcessEnv): void {
  withStoreOptions(
    program
      .command("doctor")
      .description(
        "check the API key, the network, the wallet and its balance, and the store; exits 0 if all is well, 2 if not",
      ),
  )
    .option("--api-url <url>", "Pi Platform API, with or without /v2 [env PI_API_URL]")
    .option("--horizon-url <url>", "Horizon [env PI_HORIZON_URL]")
    .option("--timeout <seconds>", "how long each check may take", parseIntOption("timeout"), 3)
    .option("--json", "print the report as JSON")
    .action(async (flags: RuntimeFlags & { timeout: number; json?: boolean }) => {
      const timeoutMs = Math.max(1, flags.timeout) * 1000;
      const location = storeLocation(flags, env);
      // Checking must not create the database that `status` would then find empty.
      const absent = !isPostgresUrl(location) && location !== ":memory:" && !existsSync(location);
      const setup = setupFrom(flags, env, { timeoutMs });
      const deps = absent ? { ...setup.deps, store: createMemoryStore() } : setup.deps;
      try {
        const found = await checkSetup(deps, { timeoutMs });
        const report = absent ? withAbsentFile(found, location) : found;
        if (flags.json) io.out(JSON.stringify(report));
        else for (const line of reportLines(report)) io.out(line);
        process.exitCode = report.ok ? 0 : DOCTOR_FAILED_EXIT_CODE;
      } finally {
        if (absent) await deps.store.close();
        await setup.close();
      }
    });
}

/** One line per check, ✓ or ✗, then a summary. */
export function reportLines(report: SetupReport): string[] {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = report.checks.map(
    (check) =>
      `${check.ok ? "✓" : "✗"} ${check.name.padEnd(width)}  ${check.verdict}${check.code && !check.ok ? ` [${check.code}]` : ""}`,
  );
  const failed = report.checks.filter((check) => !check.ok).length;
  lines.push(
    failed === 0
      ? "All checks passed: payouts can start."
      : `${failed} of ${report.checks.length} checks failed: fix them before paying.`,
  );
  return lines;
}

/** A SQLite file not created yet is fine if its folder is there: the first payout creates it. */
function withAbsentFile(report: SetupReport, location: string): SetupReport {
  const path = resolve(location);
  const folder = dirname(path);
  const check: SetupCheck = existsSync(folder)
    ? {
        name: "store",
        ok: true,
        verdict: `SQLite file ${path} does not exist yet: the first pay creates it (if you expected payouts there, check --db or PI_PAYMENTS_DB)`,
      }
    : {
        name: "store",
        ok: false,
        verdict: `SQLite file ${path} cannot be created: its folder ${folder} does not exist`,
        code: "STORE_NOT_FOUND",
      };
  const checks = report.checks.map((c) => (c.name === "store" ? check : c));
  return { ok: checks.every((c) => c.ok), checks };
}
