export { type PiCodeAdvice, piErrorCodes } from "../domain/pi-error-codes.js";
export {
  classifyHorizonFailure,
  type HorizonFailure,
  primaryResultCode,
} from "./map-horizon-error.js";
export { mapPiError } from "./map-pi-error.js";
export { createPiChain, HORIZON_URLS, type PiChainOptions } from "./pi-chain.js";
export { createPiPlatform, type PiPlatformOptions, type RetryPolicy } from "./pi-platform.js";
export type {
  ChainTransaction,
  EnvelopeFate,
  PaymentTransactionRequest,
  PiChain,
  PiPlatform,
  SignedTransaction,
  SubmitOutcome,
} from "./types.js";
