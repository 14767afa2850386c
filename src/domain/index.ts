export {
  type Amount,
  amountToNumber,
  amountToStroops,
  numberToStroops,
  parseAmount,
  STROOPS_PER_PI,
  stroopsToAmount,
} from "./amount.js";
export {
  assertPaymentMatches,
  type PaymentExpectation,
  paymentMismatches,
} from "./check-payment.js";
export * from "./errors.js";
export { isWalletAddress, parsePaymentId, parseTxid } from "./ids.js";
export type { JsonObject, JsonValue } from "./json.js";
export { type PaymentArgs, parsePaymentArgs, type ValidPaymentArgs } from "./payment-args.js";
export {
  NETWORKS,
  type NetworkName,
  type PaymentDTO,
  paymentDtoSchema,
  type UserDTO,
} from "./payment-dto.js";
export { DEFAULT_PI_API_URL, normalizePiApiUrl } from "./pi-api-url.js";
