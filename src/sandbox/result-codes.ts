import { xdr } from "@stellar/stellar-sdk";

/** Horizon's result codes for one transaction, as in `extras.result_codes`. */
export interface TxResultCodes {
  transaction: string;
  operations?: string[];
}

const txCodes: Record<string, () => xdr.TransactionResultResult> = {
  tx_too_early: () => xdr.TransactionResultResult.txTooEarly(),
  tx_too_late: () => xdr.TransactionResultResult.txTooLate(),
  tx_missing_operation: () => xdr.TransactionResultResult.txMissingOperation(),
  tx_bad_seq: () => xdr.TransactionResultResult.txBadSeq(),
  tx_bad_auth: () => xdr.TransactionResultResult.txBadAuth(),
  tx_insufficient_balance: () => xdr.TransactionResultResult.txInsufficientBalance(),
  tx_no_source_account: () => xdr.TransactionResultResult.txNoAccount(),
  tx_insufficient_fee: () => xdr.TransactionResultResult.txInsufficientFee(),
  tx_bad_auth_extra: () => xdr.TransactionResultResult.txBadAuthExtra(),
  tx_internal_error: () => xdr.TransactionResultResult.txInternalError(),
  tx_not_supported: () => xdr.TransactionResultResult.txNotSupported(),
  tx_malformed: () => xdr.TransactionResultResult.txMalformed(),
};

const paymentCodes: Record<string, () => xdr.PaymentResult> = {
  op_success: () => xdr.PaymentResult.paymentSuccess(),
  op_malformed: () => xdr.PaymentResult.paymentMalformed(),
  op_underfunded: () => xdr.PaymentResult.paymentUnderfunded(),
  op_no_destination: () => xdr.PaymentResult.paymentNoDestination(),
};

function operationResult(code: string): xdr.OperationResult {
  if (code === "op_no_source_account") return xdr.OperationResult.opNoAccount();
  if (code === "op_bad_auth") return xdr.OperationResult.opBadAuth();
  const payment = paymentCodes[code] ?? paymentCodes.op_malformed!;
  return xdr.OperationResult.opInner(xdr.OperationResultTr.payment(payment()));
}

/** The base64 `TransactionResult` XDR Horizon sends as `result_xdr` for these codes. */
export function resultXdr(feeCharged: bigint, codes: TxResultCodes): string {
  let result: xdr.TransactionResultResult;
  if (codes.transaction === "tx_success") {
    result = xdr.TransactionResultResult.txSuccess((codes.operations ?? []).map(operationResult));
  } else if (codes.transaction === "tx_failed") {
    result = xdr.TransactionResultResult.txFailed((codes.operations ?? []).map(operationResult));
  } else {
    result = (txCodes[codes.transaction] ?? txCodes.tx_internal_error!)();
  }
  return new xdr.TransactionResult({
    feeCharged: xdr.Int64.fromString(feeCharged.toString()),
    result,
    ext: new xdr.TransactionResultExt(0),
  }).toXDR("base64");
}
