import { type Amount, amountToStroops, numberToStroops } from "./amount.js";
import { type PaymentMismatch, PaymentMismatchError } from "./errors.js";
import { isWalletAddress } from "./ids.js";
import type { PaymentDTO } from "./payment-dto.js";

/** What the payment Pi returned must agree with before anything is signed (DESIGN P5). */
export interface PaymentExpectation {
  /** Our app wallet: the payment's `from_address`. */
  walletAddress: string;
  /** Our network: the payment's `network`. */
  network: string;
  /** The amount asked for, when known. */
  amount?: Amount | undefined;
  /** The uid asked for, when known. */
  uid?: string | undefined;
  /** The recipient Pi named earlier for this payment (or the app knows), when known. */
  toAddress?: string | undefined;
}

/**
 * Every way a payment differs from what we asked or from what may be signed: amount,
 * uid, recipient, direction, source wallet, network, cancelled, already linked or
 * completed. Fields Pi omitted (it sometimes omits `from_address`, `direction`,
 * `network`) are not counted as mismatches: the transaction we build always uses our
 * wallet and our network, so their absence cannot redirect funds.
 */
export function paymentMismatches(
  payment: PaymentDTO,
  expected: PaymentExpectation,
): PaymentMismatch[] {
  const found: PaymentMismatch[] = [];
  const differ = (field: string, want: unknown, got: unknown) =>
    found.push({ field, expected: want, actual: got });

  if (
    expected.amount !== undefined &&
    numberToStroops(payment.amount) !== amountToStroops(expected.amount)
  ) {
    differ("amount", expected.amount, payment.amount);
  }
  if (expected.uid !== undefined && payment.user_uid !== expected.uid)
    differ("user_uid", expected.uid, payment.user_uid);
  if (!isWalletAddress(payment.to_address))
    differ("to_address", "a wallet address", payment.to_address);
  else if (expected.toAddress !== undefined && payment.to_address !== expected.toAddress) {
    differ("to_address", expected.toAddress, payment.to_address);
  }
  if (payment.direction !== undefined && payment.direction !== "app_to_user") {
    differ("direction", "app_to_user", payment.direction);
  }
  if (payment.from_address !== undefined && payment.from_address !== expected.walletAddress) {
    differ("from_address", expected.walletAddress, payment.from_address);
  }
  if (payment.network !== undefined && payment.network !== expected.network)
    differ("network", expected.network, payment.network);
  if (payment.status.cancelled || payment.status.user_cancelled)
    differ("status.cancelled", false, true);
  if (payment.status.developer_completed) differ("status.developer_completed", false, true);
  if (payment.transaction !== null) differ("transaction", null, payment.transaction.txid);
  return found;
}

/**
 * Throws when the payment may not be signed for.
 * @throws PaymentMismatchError naming every differing field
 */
export function assertPaymentMatches(payment: PaymentDTO, expected: PaymentExpectation): void {
  const mismatches = paymentMismatches(payment, expected);
  if (mismatches.length > 0) throw new PaymentMismatchError(payment.identifier, mismatches);
}
