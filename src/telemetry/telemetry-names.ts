/**
 * The names pi-payments' telemetry is read by: spans, attributes, metrics. They are a
 * contract with dashboards and alerts (docs/observability.md), so each is written once,
 * here. OpenTelemetry's semantic conventions are used where one fits (`error.type`); the
 * rest are namespaced `pi.` (facts of Pi and its chain) or `pi_payments.` (of this library).
 */

/** The instrumentation scope of every tracer and meter. */
export const INSTRUMENTATION_SCOPE = "pi-payments";

/** One drive of a payout by one runner: from intake (or a resume) until it rests or stops. */
export const PAYOUT_SPAN = "pi-payments.payout";
/** `enqueue()`: the payout is stored for a worker; the worker's payout span continues this trace. */
export const ENQUEUE_SPAN = "pi-payments.enqueue";

/** The span of each effect, by its declared name (src/machines/payout-effects.ts). */
export const EFFECT_SPANS: Readonly<Record<string, string>> = {
  acquireSlot: "pi-payments.acquire_slot",
  createPiPayment: "pi-payments.create_payment",
  buildTransaction: "pi-payments.sign",
  submitTransaction: "pi-payments.submit",
  checkFate: "pi-payments.fate_check",
  completePiPayment: "pi-payments.complete",
  cancelPiPayment: "pi-payments.cancel",
  wait: "pi-payments.wait",
};

/** The span of an effect; one not in the table (a machine grown since) keeps its own name. */
export function effectSpanName(effect: string): string {
  return EFFECT_SPANS[effect] ?? `pi-payments.${effect}`;
}

export const ATTR = {
  /** Semantic convention: the class of error, here our stable UPPER_SNAKE code. */
  errorType: "error.type",
  paymentId: "pi.payment_id",
  network: "pi.network",
  /** The transaction hash, which is the payment's txid. */
  txHash: "pi.tx_hash",
  /** Horizon's transaction result code (`tx_bad_seq`, `tx_failed`…). */
  horizonResultCode: "pi.horizon.result_code",
  /** Horizon's first operation result code (`op_underfunded`…), when it sent one. */
  horizonOperationCode: "pi.horizon.operation_result_code",
  /** The caller's idempotency key (spans only: never a metric label). */
  payoutKey: "pi_payments.payout.key",
  /** Main state, the lifecycle contract: `created`, `stored`, `submitted`, `txStored`… */
  state: "pi_payments.state",
  /** Full state path, e.g. `submitted.sending` (spans only). */
  stateDetail: "pi_payments.state.detail",
  /** The effect, by its declared name (`submitTransaction`). */
  step: "pi_payments.step",
  /** How a payout came to rest: `completed`, `cancelled`, `failed`. */
  outcome: "pi_payments.outcome",
  /** This run continues a payout taken in earlier (another run, maybe another process). */
  resumed: "pi_payments.resumed",
  /** Why a run stopped before the payout rested: `closed`, `lease_lost`, `crashed`. */
  stopped: "pi_payments.stopped",
  /** What one submission or fate check concluded (`applied`, `failed`, `unknown`, `dead`…). */
  result: "pi_payments.result",
  /** `pay()` found the key already taken in: this span only returned the stored payout. */
  existing: "pi_payments.existing",
} as const;

export const METRIC = {
  payouts: "pi_payments.payouts",
  payoutDuration: "pi_payments.payout.duration",
  stepDuration: "pi_payments.step.duration",
  active: "pi_payments.payouts.active",
  horizonErrors: "pi_payments.horizon.errors",
  walletBalance: "pi_payments.wallet.balance",
} as const;
