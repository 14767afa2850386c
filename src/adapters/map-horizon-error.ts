import type { ResultCodes } from "../domain/errors.js";

/** What a failed Horizon call means. */
export type HorizonFailure =
  | { kind: "rejected"; resultCodes: ResultCodes }
  | { kind: "not_found" }
  | { kind: "unknown"; reason: string; status: number | undefined };

interface HttpLikeError {
  message?: string;
  code?: string;
  response?: { status?: number; data?: unknown };
}

/**
 * Classifies an error thrown by stellar-sdk's Horizon client. The single place that reads
 * Horizon's problem documents. Anything not recognised is `unknown`: for a submission that
 * means "may still land", which is always the safe reading.
 */
export function classifyHorizonFailure(error: unknown): HorizonFailure {
  const http = (error ?? {}) as HttpLikeError;
  const status = http.response?.status ?? (error as { getCode?: () => number })?.getCode?.();
  const data = http.response?.data as
    | {
        type?: string;
        detail?: string;
        extras?: { result_codes?: { transaction?: unknown; operations?: unknown } };
      }
    | undefined;
  if (status === 404 || (error instanceof Error && error.name === "NotFoundError"))
    return { kind: "not_found" };
  const codes = data?.extras?.result_codes;
  if (status === 400 && typeof codes?.transaction === "string") {
    const operations = Array.isArray(codes.operations) ? codes.operations.map(String) : undefined;
    return { kind: "rejected", resultCodes: { transaction: codes.transaction, operations } };
  }
  if (
    status === 400 &&
    typeof data?.type === "string" &&
    data.type.endsWith("/transaction_malformed")
  ) {
    return { kind: "rejected", resultCodes: { transaction: "tx_malformed" } };
  }
  const reason =
    status === undefined
      ? `no answer (${http.code ?? http.message ?? "network error"})`
      : `HTTP ${status}${data?.type ? ` ${data.type.split("/").pop()}` : ""}`;
  return { kind: "unknown", reason, status };
}

/** The most telling result code: the first failing operation's, else the transaction's. */
export function primaryResultCode(codes: ResultCodes): string {
  const failingOp = codes.operations?.find((op) => op !== "op_success");
  return codes.transaction === "tx_failed" && failingOp ? failingOp : codes.transaction;
}
