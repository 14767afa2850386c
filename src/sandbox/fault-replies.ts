import type { FaultError, GarbleShape } from "./faults.js";
import { problem } from "./horizon-records.js";
import { htmlErrorPage, type SandboxReply } from "./http.js";

/** The error answer a fault injects, as the face it hits would send it. */
export function errorReply(
  face: "pi" | "horizon",
  { status, body, resultCodes, piError }: FaultError,
): SandboxReply {
  if (face === "pi" && piError) {
    return {
      status,
      body: { error: piError, error_message: `The sandbox was told to answer ${piError}.` },
    };
  }
  if (face === "horizon" && resultCodes) {
    return problem(
      status,
      "transaction_failed",
      "Transaction Failed",
      "The transaction failed when submitted to the stellar network.",
      {
        result_codes: resultCodes,
      },
    );
  }
  if (body === "html")
    return { status, body: htmlErrorPage(status), contentType: "text/html; charset=utf-8" };
  if (face === "pi")
    return {
      status,
      body: { error: "unknown_error", error_message: "An unexpected error occurred." },
    };
  if (status === 504)
    return problem(
      504,
      "timeout",
      "Timeout",
      "Your request timed out before completing.  Please try your request again.",
    );
  return problem(
    status,
    "server_error",
    "Internal Server Error",
    "An error occurred while processing this request.",
  );
}

/** Changes the payment(s) in an answer, as a tampering proxy would; `status` fields merge. */
export function tamperBody(body: unknown, patch: Record<string, unknown>): unknown {
  const apply = (payment: Record<string, unknown>) => {
    const copy: Record<string, unknown> = { ...payment };
    for (const [key, value] of Object.entries(patch)) {
      copy[key] =
        key === "status" && typeof value === "object"
          ? { ...(payment.status as object), ...(value as object) }
          : value;
    }
    return copy;
  };
  if (body === null || typeof body !== "object") return body;
  const record = body as Record<string, unknown>;
  if (typeof record.identifier === "string") return apply(record);
  if (Array.isArray(record.incomplete_server_payments)) {
    return {
      ...record,
      incomplete_server_payments: record.incomplete_server_payments.map((p) =>
        apply(p as Record<string, unknown>),
      ),
    };
  }
  if (record.payment && typeof record.payment === "object")
    return { ...record, payment: apply(record.payment as Record<string, unknown>) };
  return body;
}

/**
 * The answer a `garble` fault sends instead of `reply`: valid JSON of the wrong shape
 * ("wrong-type", "empty"), JSON cut in half ("truncated"), each with the real status, so a
 * garbled answer never claims an outcome that did not happen; or an HTML page with 200
 * ("html"), as a captive portal or a misrouted proxy sends.
 */
export function garbleReply(
  face: "pi" | "horizon",
  reply: SandboxReply,
  shape: GarbleShape,
): SandboxReply {
  switch (shape) {
    case "wrong-type":
      return {
        ...reply,
        body: face === "pi" ? wrongPiTypes(reply) : wrongHorizonTypes(reply.body),
      };
    case "empty":
      return { ...reply, body: {} };
    case "truncated": {
      const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
      return {
        status: reply.status,
        body: text.slice(0, Math.floor(text.length / 2)),
        contentType: reply.contentType ?? "application/json; charset=utf-8",
      };
    }
    case "html":
      return { status: 200, body: htmlPage, contentType: "text/html; charset=utf-8" };
  }
}

const htmlPage =
  "<!DOCTYPE html>\n<html><head><title>Pi Network</title></head><body><h1>Pi Network</h1><p>Please sign in to continue.</p></body></html>\n";

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  value !== null && typeof value === "object" && !Array.isArray(value);

/** An array turned into an object keyed by index: what a client iterating it must refuse. */
const notAnArray = (list: unknown[]): Json =>
  Object.fromEntries(list.map((v, i) => [String(i), v]));

/** A Pi answer whose fields have the wrong types: a payment's `amount` a string ("3.14"). */
function wrongPiTypes(reply: SandboxReply): unknown {
  const body = reply.body;
  if (!isRecord(body)) return body;
  const payment = (p: unknown) => (isRecord(p) ? { ...p, amount: String(p.amount) } : p);
  if (typeof body.identifier === "string") return payment(body);
  if (Array.isArray(body.incomplete_server_payments))
    return { incomplete_server_payments: notAnArray(body.incomplete_server_payments.map(payment)) };
  if (typeof body.error === "string")
    return {
      ...body,
      error: reply.status,
      ...("payment" in body ? { payment: payment(body.payment) } : {}),
    };
  return flipScalars(body);
}

/** A Horizon answer whose fields have the wrong types: pages without a records array, records with flipped scalars. */
function wrongHorizonTypes(body: unknown): unknown {
  if (!isRecord(body)) return body;
  const embedded = body._embedded;
  if (isRecord(embedded) && Array.isArray(embedded.records))
    return { ...body, _embedded: { ...embedded, records: notAnArray(embedded.records) } };
  return flipScalars(body);
}

/**
 * Every top-level scalar a client reads gets another type: numbers and booleans become
 * strings (`ledger: "7"`, `successful: "true"`), numeric strings numbers (`sequence`),
 * other strings arrays (`hash: ["…"]`), balances numbers.
 */
function flipScalars(body: Json): Json {
  const flipped: Json = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === "_links") flipped[key] = value;
    else if (key === "balances" && Array.isArray(value))
      flipped[key] = value.map((b) => (isRecord(b) ? { ...b, balance: Number(b.balance) } : b));
    else if (typeof value === "number" || typeof value === "boolean") flipped[key] = String(value);
    else if (typeof value === "string")
      flipped[key] = /^-?\d+$/.test(value) ? Number(value) : [value];
    else flipped[key] = value;
  }
  return flipped;
}
