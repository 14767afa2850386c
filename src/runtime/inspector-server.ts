import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { PiPaymentsError } from "../domain/errors.js";

/** Options of {@link startInspectorServer}. */
export interface InspectorServerOptions {
  /** The port of both the page and its WebSocket; 0 picks a free one. @default 8080 */
  port?: number;
  /**
   * The interface to bind. The inspector shows every payout (users, amounts, ids), so by
   * default only this machine can reach it. @default "127.0.0.1"
   */
  host?: string;
  /** The inspector UI the page embeds. @default "https://stately.ai/inspect" */
  inspectorUrl?: string;
}

/** A running inspector server. */
export interface InspectorServer {
  /** The page to open in a browser, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Where payouts send their machines: `createPayouts({ inspect: { url: websocketUrl } })`. */
  readonly websocketUrl: string;
  /** Disconnects every client and stops listening. */
  close(): Promise<void>;
}

/** Messages kept for a page that connects late, as @statelyai/inspect's own server keeps. */
const BUFFERED_MESSAGES = 200;

/**
 * Starts a local inspector server: a page that embeds the Stately inspector (hosted at
 * stately.ai, so the browser needs internet access) and a WebSocket that relays what
 * payouts send to every page that is open. It serves the same page and protocol as
 * `@statelyai/inspect/server`, which always listens on every interface; this one binds
 * loopback unless told otherwise, and accepts browsers only from its own page.
 *
 * @example
 * const inspector = await startInspectorServer({ port: 0 });
 * const payouts = createPayouts({ ...options, inspect: { url: inspector.websocketUrl } });
 * console.log(`open ${inspector.url}`);
 */
export async function startInspectorServer(
  options: InspectorServerOptions = {},
): Promise<InspectorServer> {
  const host = options.host ?? "127.0.0.1";
  const page = bridgePage(options.inspectorUrl ?? "https://stately.ai/inspect");
  const http = createServer((request, response) => {
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405).end();
      return;
    }
    response.writeHead(200, {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
    });
    response.end(request.method === "HEAD" ? undefined : page);
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(
        new PiPaymentsError(
          `The inspector server cannot listen on ${hostPort(host, options.port ?? 8080)}: ${error.code ?? error.message}. Choose another port (PI_PAYMENTS_INSPECT_PORT, or 0 for any free one).`,
          { code: "INSPECTOR_UNAVAILABLE", cause: error },
        ),
      );
    http.once("error", failed);
    http.listen(options.port ?? 8080, host, () => {
      http.off("error", failed);
      resolve();
    });
  });
  // Made once listening: a WebSocketServer re-emits its HTTP server's errors (EADDRINUSE)
  // as its own, uncaught.
  const sockets = new WebSocketServer({
    server: http,
    // Any web page may open a WebSocket to localhost: only this server's own page (and
    // clients that are not browsers, which send no Origin) may read or feed the payouts.
    verifyClient: (
      { req }: { req: IncomingMessage },
      done: (accept: boolean, code?: number, message?: string) => void,
    ) => done(sameOrigin(req), 403, "Only this inspector's own page may connect"),
  });
  // A window on the payouts must never bring their process down.
  sockets.on("error", () => undefined);
  const buffer: string[] = [];
  sockets.on("connection", (socket) => {
    socket.on("error", () => socket.terminate());
    for (const message of buffer) socket.send(message);
    socket.on("message", (data) => {
      const message = data.toString();
      buffer.push(message);
      if (buffer.length > BUFFERED_MESSAGES) buffer.shift();
      for (const client of sockets.clients) {
        if (client !== socket && client.readyState === WebSocket.OPEN) client.send(message);
      }
    });
  });

  const { port } = http.address() as AddressInfo;
  const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  const address = hostPort(shown, port);
  return {
    url: `http://${address}`,
    websocketUrl: `ws://${address}`,
    async close() {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** `host:port`, with an IPv6 address in brackets. */
function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/**
 * The page of @statelyai/inspect's server: the hosted inspector in an iframe, fed by this
 * server's WebSocket through postMessage. The socket's address is the page's own, so it
 * works under whatever name the browser used (127.0.0.1, localhost, a tunnel).
 */
function bridgePage(inspectorUrl: string): string {
  const src = JSON.stringify(inspectorUrl).replace(/</g, "\\u003c");
  return `<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>pi-payments: Stately Inspector</title>
  <style>
    * { margin: 0; padding: 0; }
    html, body { height: 100%; font: 13px system-ui, sans-serif; }
    body { display: flex; flex-direction: column; }
    #note { padding: 4px 8px; background: #f3f3f3; border-bottom: 1px solid #ddd; }
    iframe { flex: 1; width: 100%; border: none; }
  </style>
</head>
<body>
  <p id="note">Payouts stream from this local server; the inspector itself is Stately's hosted one
  (<span id="inspector-host"></span>), so this browser needs internet access.
  <span id="status">Connecting…</span></p>
  <iframe id="inspector"></iframe>
  <script>
    const inspectorUrl = ${src};
    const iframe = document.getElementById('inspector');
    const status = document.getElementById('status');
    document.getElementById('inspector-host').textContent = new URL(inspectorUrl).host;
    iframe.src = inspectorUrl;
    const buffer = [];
    let connected = false;
    window.addEventListener('message', (e) => {
      if (e.data && e.data.type === '@statelyai.connected') {
        connected = true;
        for (const event of buffer) iframe.contentWindow.postMessage(event, '*');
        buffer.length = 0;
      }
    });
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host);
    ws.onopen = () => { status.textContent = 'Connected.'; };
    ws.onclose = () => { status.textContent = 'Disconnected: is pi-payments still running?'; };
    ws.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (connected) iframe.contentWindow.postMessage(data, '*');
      else buffer.push(data);
    };
  </script>
</body>
</html>`;
}
