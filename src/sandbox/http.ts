import type { IncomingMessage, ServerResponse } from "node:http";

/** A request as the sandbox's handlers see it. */
export interface SandboxRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  params: Record<string, string>;
  headers: IncomingMessage["headers"];
  /** JSON or form fields, by content type; undefined when empty or unreadable. */
  body: unknown;
  /** Set when the body was not valid JSON although it said so. */
  bodyError: string | undefined;
  /** For a Horizon read answered by a lagging instance: the last ledger it has; else undefined (the latest). */
  asOfLedger?: number | undefined;
}

/** A handler's answer. */
export interface SandboxReply {
  status: number;
  body: unknown;
  contentType?: string;
}

/** A route handler. */
export type Handler = (request: SandboxRequest) => SandboxReply | Promise<SandboxReply>;

/** One route: method and path with `:name` parameters. */
export interface Route {
  method: string;
  pattern: string;
  handler: Handler;
  /** `false` for a GET that a `lag` fault must not touch (it acts on the network, like friendbot). @default true */
  lags?: boolean;
}

/** Finds the route for a request and its path parameters. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  const segments = path.split("/").filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const pattern = route.pattern.split("/").filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = pattern.every((part, i) => {
      const segment = decodeURIComponent(segments[i]!);
      if (part.startsWith(":")) {
        params[part.slice(1)] = segment;
        return true;
      }
      return part === segment;
    });
    if (ok) return { route, params };
  }
  return undefined;
}

const maxBodyBytes = 1024 * 1024;

/** Reads and parses a request body (JSON or form-encoded), at most 1 MiB. */
export async function readBody(
  req: IncomingMessage,
): Promise<{ body: unknown; error: string | undefined }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return { body: undefined, error: "The body is larger than 1 MiB." };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.length === 0) return { body: undefined, error: undefined };
  const type = req.headers["content-type"] ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    return { body: Object.fromEntries(new URLSearchParams(text)), error: undefined };
  }
  try {
    return { body: JSON.parse(text), error: undefined };
  } catch {
    return { body: undefined, error: "The body is not valid JSON." };
  }
}

/** Writes a reply with the chain's time in the `Date` header (clients derive time bounds from it). */
export function send(
  res: ServerResponse,
  reply: SandboxReply,
  nowMs: number,
  headers: Record<string, string> = {},
): void {
  const isText = typeof reply.body === "string";
  const payload = isText ? (reply.body as string) : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "Content-Type":
      reply.contentType ??
      (isText ? "text/html; charset=utf-8" : "application/json; charset=utf-8"),
    "Content-Length": Buffer.byteLength(payload),
    Date: new Date(nowMs).toUTCString(),
    ...headers,
  });
  res.end(payload);
}

/** The HTML page a proxy in front of Pi answers 5xx with. */
export function htmlErrorPage(status: number): string {
  return `<!DOCTYPE html>\n<html><head><title>${status} Server Error</title></head><body><h1>${status} Server Error</h1><p>The server encountered a temporary error.</p></body></html>\n`;
}
