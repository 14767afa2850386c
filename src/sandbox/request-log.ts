import { TransactionBuilder } from "@stellar/stellar-sdk";
import type { RequestLogEntry } from "./types.js";

/** The sandbox's request log: the newest `limit` entries, oldest first. */
export interface RequestLog {
  remember(entry: RequestLogEntry): void;
  entries(): RequestLogEntry[];
  clear(): void;
}

/** A request log that keeps at most `limit` entries (0 keeps none). */
export function createRequestLog(limit: number): RequestLog {
  const log: RequestLogEntry[] = [];
  return {
    remember: (entry) => {
      if (limit === 0) return;
      if (log.length >= limit) log.shift();
      log.push(entry);
    },
    entries: () => log,
    clear: () => {
      log.length = 0;
    },
  };
}

/** The txid and upper time bound of a submitted envelope, for the log; undefined if it does not decode. */
export function describeEnvelope(
  envelope: string,
  passphrase: string,
): { txid: string; maxTime: number } | undefined {
  try {
    const tx = TransactionBuilder.fromXDR(envelope, passphrase);
    const maxTime = "timeBounds" in tx ? Number(tx.timeBounds?.maxTime ?? 0) : 0;
    return { txid: tx.hash().toString("hex"), maxTime };
  } catch {
    return undefined;
  }
}
