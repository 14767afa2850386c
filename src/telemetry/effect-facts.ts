import type { MachineEvent } from "../runtime/durable-machine.js";

/** What telemetry reads of an effect's result event: codes and ids, never a payload. */
export interface EffectFacts {
  /** Our error code when the effect failed (`error.type`). */
  errorType: string | undefined;
  /** What a submission or a fate check concluded (`applied`, `failed`, `dead`, `pending`…). */
  result: string | undefined;
  /** Horizon's result codes, when its answer carried them (a refusal, a failed transaction). */
  horizon: { transaction: string; operation: string | undefined } | undefined;
  paymentId: string | undefined;
  txHash: string | undefined;
}

type Loose = Record<string, unknown> | undefined;

/**
 * The facts of an effect's done or error event (see MachineRunner.execute), read once per
 * effect for both the tracing and the metrics. Read field by field from plain JSON: an
 * effect replaced in a test may answer anything.
 */
export function effectFacts(event: MachineEvent): EffectFacts {
  const output = event.output as Loose;
  const error = event.error as Loose;
  const details = error?.details as Loose;
  const codes = (output?.resultCodes ?? details?.resultCodes) as Loose;
  const transaction = output?.transaction as Loose;
  const payment = output?.payment as Loose;
  const operations = codes?.operations;
  return {
    errorType: typeof error?.code === "string" ? error.code : undefined,
    result: typeof output?.status === "string" ? output.status : undefined,
    horizon:
      typeof codes?.transaction === "string"
        ? {
            transaction: codes.transaction,
            operation:
              Array.isArray(operations) && typeof operations[0] === "string"
                ? operations[0]
                : undefined,
          }
        : undefined,
    paymentId: typeof payment?.identifier === "string" ? payment.identifier : undefined,
    txHash:
      typeof transaction?.txid === "string"
        ? transaction.txid
        : typeof output?.txid === "string"
          ? output.txid
          : undefined,
  };
}
