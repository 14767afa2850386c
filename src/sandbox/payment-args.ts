import { numberToStroops } from "../domain/amount.js";
import { isPlainObject } from "../domain/json.js";
import { PiFailure } from "./pi-failure.js";

/** The arguments of `POST /v2/payments`, checked as Pi checks them, in Pi's order. */
export function parseCreateArgs(body: unknown): {
  amount: number;
  memo: string;
  uid: string;
  metadata: Record<string, unknown>;
} {
  const args = isPlainObject(body) && isPlainObject(body.payment) ? body.payment : undefined;
  if (!args) throw new PiFailure(400, "invalid_arguments", 'The body must be {"payment": {...}}.');
  const { amount, memo, uid, metadata } = args;
  if (typeof amount !== "number" || numberToStroops(amount) === undefined || amount <= 0) {
    throw new PiFailure(
      400,
      "invalid_amount",
      "The amount must be a positive number with at most 7 decimals.",
    );
  }
  if (typeof memo !== "string")
    throw new PiFailure(400, "invalid_arguments", "memo must be a string.");
  if (typeof uid !== "string")
    throw new PiFailure(400, "invalid_arguments", "uid must be a string.");
  if (!isPlainObject(metadata))
    throw new PiFailure(400, "invalid_metadata", "metadata must be an object.");
  return { amount, memo, uid, metadata };
}
