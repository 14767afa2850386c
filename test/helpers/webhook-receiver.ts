import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach } from "vitest";
import { type PayoutEvent, verifyWebhook } from "../../src/index.js";

/** What the receiver does with one request. */
export type Verdict = "ok" | "fail" | "hang";

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  body: string;
  /** The event, when its signature verified; undefined when it did not. */
  event: PayoutEvent | undefined;
  verdict: Verdict;
}

/** A webhook receiver on loopback that verifies every request and fails on demand. */
export interface TestReceiver {
  url: string;
  requests: ReceivedRequest[];
  /** Ids of events answered 2xx. */
  accepted: Set<string>;
  /** Requests whose signature did not verify. */
  badSignatures(): number;
  /** Decides each request; swap it to change behaviour mid-test. */
  decide: (event: PayoutEvent | undefined, attempt: number) => Verdict;
  close(): Promise<void>;
}

const open = new Set<Server>();

afterEach(async () => {
  await Promise.all(
    [...open].map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
  open.clear();
});

/**
 * A seeded, timing-independent fault schedule: the verdict of an event's n-th attempt is a
 * hash of (seed, id, n), so the same events get the same faults whatever the interleaving.
 */
export function seededFaults(
  seed: number,
  { failRate, hangRate }: { failRate: number; hangRate: number },
) {
  return (event: PayoutEvent | undefined, attempt: number): Verdict => {
    const digest = createHash("sha256").update(`${seed}:${event?.id}:${attempt}`).digest();
    const roll = digest.readUInt32BE(0) / 2 ** 32;
    if (roll < hangRate) return "hang";
    if (roll < hangRate + failRate) return "fail";
    return "ok";
  };
}

/**
 * Starts a receiver on 127.0.0.1, port 0, closed after the test. "fail" answers 500,
 * "hang" answers 200 only after `hangMs` (past the relay's timeout: the relay must treat it
 * as failed and try again).
 */
export async function startReceiver(
  secret: string,
  { hangMs = 1000 }: { hangMs?: number } = {},
): Promise<TestReceiver> {
  const attempts = new Map<string, number>();
  let bad = 0;
  const receiver: TestReceiver = {
    url: "",
    requests: [],
    accepted: new Set(),
    badSignatures: () => bad,
    decide: () => "ok",
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      let event: PayoutEvent | undefined;
      try {
        event = verifyWebhook(body, req.headers["pi-payments-signature"], secret);
      } catch {
        bad += 1;
      }
      const attempt = (attempts.get(event?.id ?? "") ?? 0) + 1;
      if (event) attempts.set(event.id, attempt);
      const verdict = event ? receiver.decide(event, attempt) : "fail";
      receiver.requests.push({ headers: req.headers, body, event, verdict });
      if (verdict === "fail") {
        res.writeHead(500).end("no");
      } else if (verdict === "hang") {
        const timer = setTimeout(() => res.writeHead(200).end(), hangMs);
        res.on("close", () => clearTimeout(timer));
      } else {
        receiver.accepted.add(event!.id);
        res.writeHead(204).end();
      }
    });
  });
  open.add(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
