export {
  classifyHorizonFailure,
  type HorizonFailure,
  primaryResultCode,
} from "./map-horizon-error.js";
export { mapPiError, type PiCodeAdvice, piErrorCodes } from "./map-pi-error.js";
export { createPiChain, HORIZON_URLS, type PiChainOptions } from "./pi-chain.js";
export { PiNetwork, type PiNetworkOptions } from "./pi-network.js";
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
