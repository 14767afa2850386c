import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ConfigurationError, PiPaymentsError } from "../domain/errors.js";
import type { MeterProviderLike } from "./telemetry-options.js";

/** A Prometheus scrape endpoint over the metrics of one process. */
export interface MetricsServer {
  /** Where to scrape, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  /** The meter provider to hand `createPayouts({ telemetry: { meterProvider } })`. */
  readonly meterProvider: MeterProviderLike;
  close(): Promise<void>;
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** 0 for any free port. */
  port: number;
  /** @default "127.0.0.1" (loopback: give "0.0.0.0" for a scraper on another host) */
  host?: string;
}

const installHint =
  "npm install @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/exporter-prometheus";

/**
 * Serves this process's metrics in Prometheus' text format at `/metrics`, for
 * `pi-payments worker --metrics-port`.
 *
 * The exporter and the metrics SDK are optional peer dependencies, loaded only here and only
 * when asked: a library that embeds pi-payments brings its own SDK, and should not get a
 * second one installed with every `npm install`. Our own HTTP server (rather than the
 * exporter's) so that port 0 works and the address is known, and a busy port is our error.
 * @throws ConfigurationError `METRICS_EXPORTER_MISSING` when the packages are not installed
 * @throws PiPaymentsError `METRICS_UNAVAILABLE` when the port cannot be listened on
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? "127.0.0.1";
  let modules: [
    typeof import("@opentelemetry/exporter-prometheus"),
    typeof import("@opentelemetry/sdk-metrics"),
  ];
  try {
    modules = await Promise.all([
      import("@opentelemetry/exporter-prometheus"),
      import("@opentelemetry/sdk-metrics"),
    ]);
  } catch (error) {
    throw Object.assign(
      new ConfigurationError(
        `--metrics-port needs OpenTelemetry's Prometheus exporter, which is not installed: ${installHint}`,
        "METRICS_EXPORTER_MISSING",
      ),
      { cause: error },
    );
  }
  const [{ PrometheusExporter }, { MeterProvider }] = modules;
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method === "GET" && path === "/metrics") {
      exporter.getMetricsRequestHandler(request, response);
      return;
    }
    response.statusCode = 404;
    response.end("Not found: metrics are at /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) =>
      reject(
        new PiPaymentsError(
          `The metrics server cannot listen on ${host}:${options.port} (${error.message}); choose another --metrics-port (0: any free one) or --metrics-host.`,
          { code: "METRICS_UNAVAILABLE", cause: error },
        ),
      ),
    );
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/metrics`,
    meterProvider,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await meterProvider.shutdown().catch(() => undefined);
    },
  };
}
