import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SandboxChain } from "./chain.js";
import { errorReply, garbleReply, tamperBody } from "./fault-replies.js";
import type { FaultInjector } from "./faults.js";
import { problem } from "./horizon-records.js";
import { matchRoute, type Route, readBody, type SandboxReply, send } from "./http.js";
import { describeEnvelope, type RequestLog } from "./request-log.js";
import type { RequestLogEntry } from "./types.js";

/** What the server dispatches to. */
export interface SandboxServerOptions {
  routes: { pi: Route[]; horizon: Route[]; admin: Route[] };
  faults: FaultInjector;
  log: RequestLog;
  chain: SandboxChain;
  /** The passphrase submitted envelopes are decoded with, for the log. */
  passphrase: string;
}

/** The sandbox's one HTTP server: three faces on one port, faults and the request log. */
export interface SandboxServer {
  /** Binds, and answers the base URL clients reach the sandbox at. */
  listen(port: number, host: string): Promise<string>;
  /** Requests received and not yet answered or dropped. */
  inFlight(): number;
  close(): Promise<void>;
}

type Face = "admin" | "pi" | "horizon";

const faceOf = (pathname: string): Face =>
  pathname.startsWith("/__sandbox") ? "admin" : pathname.startsWith("/v2") ? "pi" : "horizon";

/**
 * Creates the server: `/__sandbox` goes to the admin routes (never faulted), `/v2` to the
 * Pi face, everything else to Horizon; the two faces go through the fault plan and the log.
 * Every Horizon answer carries `Latest-Ledger`, the last ledger of the view that answered,
 * as real Horizon does: a client can tell a lagging instance's 404 from a real one.
 */
export function createSandboxServer(options: SandboxServerOptions): SandboxServer {
  const { routes, faults, log, chain } = options;
  let inFlight = 0;

  const reply = (res: ServerResponse, face: Face, answer: SandboxReply, asOfLedger?: number) => {
    const headers: Record<string, string> =
      face === "horizon" ? { "Latest-Ledger": String(asOfLedger ?? chain.latest.sequence) } : {};
    send(res, answer, chain.now(), headers);
  };

  const server = createServer((req, res) => {
    inFlight += 1;
    // "close" comes once per response: sent, or its connection dropped.
    res.once("close", () => {
      inFlight -= 1;
    });
    const face = faceOf(new URL(req.url ?? "/", "http://sandbox").pathname);
    handle(req, res, face).catch((error: unknown) => {
      if (!res.headersSent)
        reply(res, face, {
          status: 500,
          body: { error: "unknown_error", error_message: String(error) },
        });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, face: Face): Promise<void> {
    const url = new URL(req.url ?? "/", "http://sandbox");
    const method = req.method ?? "GET";
    const { body, error: bodyError } = await readBody(req);
    const found = matchRoute(routes[face], method, url.pathname);
    const request = (params: Record<string, string>, asOfLedger: number | undefined) => ({
      method,
      path: url.pathname,
      query: url.searchParams,
      params,
      headers: req.headers,
      body,
      bodyError,
      asOfLedger,
    });
    if (face === "admin") {
      const answer = found
        ? await found.route.handler(request(found.params, undefined))
        : { status: 404, body: { error: "not_found" } };
      reply(res, face, answer);
      return;
    }
    const canLag =
      face === "horizon" && method === "GET" && found !== undefined && found.route.lags !== false;
    const plan = faults.plan(method, url.pathname, { canLag });
    const entry: RequestLogEntry = {
      at: chain.now(),
      face,
      method,
      path: url.pathname + url.search,
      status: 0,
      faults: plan.hits,
    };
    const envelope = (body as { tx?: unknown } | undefined)?.tx;
    if (face === "horizon" && method === "POST" && typeof envelope === "string") {
      const decoded = describeEnvelope(envelope, options.passphrase);
      if (decoded) Object.assign(entry, decoded);
    }
    log.remember(entry);
    if (plan.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.latencyMs));

    // The lagging instance's view is fixed when it starts answering, after any latency.
    const asOfLedger =
      plan.lag === undefined ? undefined : Math.max(1, chain.latest.sequence - plan.lag);
    let answer: SandboxReply;
    if (plan.errorBefore) {
      answer = errorReply(face, plan.errorBefore);
    } else if (!found) {
      answer =
        face === "pi"
          ? { status: 404, body: { error: "not_found", error_message: "No such endpoint." } }
          : problem(
              404,
              "not_found",
              "Resource Missing",
              "The resource at the url requested was not found.",
            );
    } else {
      answer = await found.route.handler(request(found.params, asOfLedger));
      if (plan.drop) {
        entry.status = "dropped";
        if (face === "horizon") entry.latestLedger = asOfLedger ?? chain.latest.sequence;
        req.socket.destroy();
        return;
      }
      if (plan.errorAfter) answer = errorReply(face, plan.errorAfter);
      else {
        if (plan.tamper) answer = { ...answer, body: tamperBody(answer.body, plan.tamper) };
        if (plan.garble) answer = garbleReply(face, answer, plan.garble);
      }
    }
    entry.status = answer.status;
    if (face === "horizon") entry.latestLedger = asOfLedger ?? chain.latest.sequence;
    if (!res.destroyed) reply(res, face, answer, asOfLedger);
  }

  return {
    listen: async (port, host) => {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address() as AddressInfo;
      const shown = host.includes(":") ? `[${host}]` : host;
      return `http://${shown === "0.0.0.0" ? "127.0.0.1" : shown}:${address.port}`;
    },
    inFlight: () => inFlight,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
