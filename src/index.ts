// The front door: what an app needs, by name. Stores have their own entry points
// (pi-payments/sqlite, pi-payments/postgres, pi-payments/memory), so that importing this
// one never loads a database driver; the sandbox is pi-payments/sandbox, the store
// contract suite pi-payments/testing.

export { createPiChain, HORIZON_URLS, type PiChainOptions } from "./adapters/pi-chain.js";
export {
  createPiPlatform,
  type PiPlatformOptions,
  type RetryPolicy,
} from "./adapters/pi-platform.js";
export type {
  ChainTransaction,
  EnvelopeFate,
  ExpectedPayment,
  IgnoredTransaction,
  PaymentSearch,
  PaymentTransactionRequest,
  PiChain,
  PiPlatform,
  PreparedPayment,
  PrepareOptions,
  SignedTransaction,
  SubmitOutcome,
} from "./adapters/types.js";
export { type Amount, parseAmount } from "./domain/amount.js";
export {
  type ChainResultCode,
  type ErrorCode,
  type ErrorCodeInfo,
  errorCatalog,
  explainError,
} from "./domain/error-catalog.js";
export {
  ChainError,
  ConfigurationError,
  ConflictError,
  isChainError,
  isConflictError,
  isNotFoundError,
  isOngoingPaymentError,
  isPaymentMismatchError,
  isPiApiError,
  isPiPaymentsError,
  isValidationError,
  isWebhookVerificationError,
  LifecycleError,
  NotFoundError,
  OngoingPaymentError,
  type PaymentMismatch,
  PaymentMismatchError,
  PiApiError,
  PiPaymentsError,
  type ResultCodes,
  type SerializedError,
  StorageError,
  ValidationError,
  type ValidationIssue,
  WebhookVerificationError,
} from "./domain/errors.js";
export type { JsonObject, JsonValue } from "./domain/json.js";
export type { PaymentArgs } from "./domain/payment-args.js";
export { NETWORKS, type NetworkName, type PaymentDTO, type UserDTO } from "./domain/payment-dto.js";
export type { PayoutArgs } from "./domain/payout-args.js";
export type {
  ConsumeOptions,
  EventConsumer,
  EventHandler,
  HandlerContext,
} from "./events/consumer-types.js";
export type { PayoutEvents } from "./events/event-feed.js";
export {
  PAYOUT_EVENT_VERSION,
  type PayoutActor,
  type PayoutEvent,
  type PayoutEventType,
} from "./events/payout-event.js";
export {
  createWebhookRelay,
  type WebhookDeliveryReport,
  type WebhookRelay,
  type WebhookRelayOptions,
} from "./events/webhook-relay.js";
export {
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookSecret,
} from "./events/webhook-signature.js";
export {
  OUTCOME_STATES,
  PAYOUT_STATES,
  type PayoutFailure,
  type PayoutState,
} from "./machines/types.js";
export { PiNetwork, type PiNetworkOptions } from "./pi-network/pi-network.js";
export { payoutMachine } from "./public-machine.js";
export {
  type CommandOptions,
  createPayouts,
  createWorker,
  type EnqueueOptions,
  type InspectOption,
  type InspectorLike,
  type OnSettled,
  type PayOptions,
  type Payout,
  type PayoutFilter,
  type PayoutStep,
  type Payouts,
  type PayoutsOptions,
  type Probe,
  type ProbePoint,
  type RecoveryReport,
  type SlotBlocker,
  type Worker,
  type WorkerOptions,
} from "./runtime/index.js";
export {
  type InspectorServer,
  type InspectorServerOptions,
  startInspectorServer,
} from "./runtime/inspector-server.js";
export type { SetupCheck, SetupCheckOptions, SetupReport } from "./runtime/setup-check.js";
export type * from "./storage/feed-types.js";
export type * from "./storage/types.js";
export type {
  MeterProviderLike,
  TelemetryOptions,
  TracerProviderLike,
} from "./telemetry/telemetry-options.js";
