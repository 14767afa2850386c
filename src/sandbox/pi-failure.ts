import type { PaymentDTO } from "../domain/payment-dto.js";

/** Pi's error answer: an HTTP status and the body `{error, error_message, payment?, verification_error?}`. */
export class PiFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly errorMessage: string,
    readonly extra: { payment?: PaymentDTO; verification_error?: string } = {},
  ) {
    super(errorMessage);
  }

  /** The JSON body Pi answers with. */
  body(): Record<string, unknown> {
    return { error: this.error, error_message: this.errorMessage, ...this.extra };
  }
}
