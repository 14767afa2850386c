// The hook for a "with telemetry" column. Telemetry (src/telemetry, through
// @opentelemetry/api only) is being added on another branch: until its build exists this
// returns undefined and the column says so. Once it does, return here the createPayouts
// options that turn it on with a recording provider (spans and metrics kept in memory, so
// the figure holds the library's instrumentation and not an exporter's network).
import { existsSync } from "node:fs";

const built = new URL("../dist/telemetry/index.js", import.meta.url);

/**
 * createPayouts options that turn telemetry on, or undefined while the library has none.
 * @returns {Promise<Record<string, unknown> | undefined>}
 */
export async function telemetryOptions() {
  if (!existsSync(built)) return undefined;
  const telemetry = await import(built.href);
  // The telemetry branch names its own bench options; nothing to guess here.
  return typeof telemetry.benchTelemetryOptions === "function"
    ? telemetry.benchTelemetryOptions()
    : undefined;
}
