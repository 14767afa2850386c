import { createRequire } from "node:module";

/** The OpenTelemetry API module, as `import * as api from "@opentelemetry/api"` gives it. */
export type OtelApi = typeof import("@opentelemetry/api");

/** How the API module is found: Node's resolution from this file, replaced in tests. */
export type OtelResolver = () => unknown;

const requireHere = createRequire(import.meta.url);
const resolveFromHere: OtelResolver = () => requireHere("@opentelemetry/api");

let cached: { api: OtelApi | undefined } | undefined;

/**
 * The host's `@opentelemetry/api`, or undefined when it is not installed: it is an optional
 * peer dependency, so the library imports and runs without it and then records nothing.
 *
 * Loaded synchronously with `require` because `createPayouts()` is synchronous. The CommonJS
 * and ESM builds of the API share one global registry (`Symbol.for("opentelemetry.js.api.1")`),
 * so a provider the host registers through `import` is the one seen here. Resolved from this
 * file, which finds the copy in the host's node_modules (the one its SDK registered with).
 */
export function loadOtel(resolve: OtelResolver = resolveFromHere): OtelApi | undefined {
  if (resolve === resolveFromHere && cached) return cached.api;
  let api: OtelApi | undefined;
  try {
    const loaded = resolve() as Partial<OtelApi> | undefined;
    // Anything else named so (a stub, a far older API) is treated as absent rather than half used.
    api =
      typeof loaded?.trace?.getTracer === "function" &&
      typeof loaded.metrics?.getMeter === "function"
        ? (loaded as OtelApi)
        : undefined;
  } catch {
    api = undefined;
  }
  if (resolve === resolveFromHere) cached = { api };
  return api;
}
