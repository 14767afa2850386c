import type { PaymentDTO } from "../domain/payment-dto.js";
import type { StoredPayout } from "../storage/types.js";

/**
 * True when `payment` carries the key of a payout that has already ended (completed or
 * cancelled) with another payment, or with none: a create request that reached Pi after its
 * payout had moved on (it was in flight when a process died, or Pi answered it late). No
 * envelope was ever signed for it, since a payout only signs for the payment it stored, so
 * cancelling it is safe; left alone it would hold Pi's one open payment slot for good.
 */
export function isStray(record: StoredPayout | undefined, payment: PaymentDTO): boolean {
  return (
    record !== undefined &&
    (record.state === "completed" || record.state === "cancelled") &&
    record.paymentId !== payment.identifier
  );
}
