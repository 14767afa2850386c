import type { PaymentDTO } from "../../src/domain/index.js";

/**
 * An A2U payment as Pi returns it right after creation (approved, no transaction), for
 * tests that need one without a sandbox. Give what the test is about; the rest is filler.
 */
export function a2uPayment(
  fields: Pick<PaymentDTO, "from_address" | "to_address"> & Partial<PaymentDTO>,
): PaymentDTO {
  return {
    identifier: "P".repeat(28),
    user_uid: "u1",
    amount: 2,
    memo: "m",
    metadata: {},
    direction: "app_to_user",
    created_at: "2026-01-01T00:00:00Z",
    network: "Pi Testnet",
    status: {
      developer_approved: true,
      transaction_verified: false,
      developer_completed: false,
      cancelled: false,
      user_cancelled: false,
    },
    transaction: null,
    ...fields,
  };
}
