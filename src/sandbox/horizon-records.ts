import { formatAmount7 } from "../domain/amount.js";
import type { SandboxChain } from "./chain.js";
import type { ChainAccount, LedgerHeader, LedgerTransaction } from "./chain-types.js";
import type { SandboxReply } from "./http.js";

const problemType = "application/problem+json; charset=utf-8";

/** The content type of Horizon's records and pages. */
export const halType = "application/hal+json; charset=utf-8";

/** Horizon's problem document. */
export function problem(
  status: number,
  type: string,
  title: string,
  detail: string,
  extras?: unknown,
): SandboxReply {
  return {
    status,
    contentType: problemType,
    body: {
      type: `https://stellar.org/horizon-errors/${type}`,
      title,
      status,
      detail,
      ...(extras === undefined ? {} : { extras }),
    },
  };
}

/** Horizon's 404, word for word. */
export function notFound(): SandboxReply {
  return problem(
    404,
    "not_found",
    "Resource Missing",
    "The resource at the url requested was not found.  This usually occurs for one of two reasons:  The url requested is not valid, or no data in our database could be found with the parameters provided.",
  );
}

/** Horizon's record bodies, with links under the sandbox's base URL. */
export function horizonRecords(chain: SandboxChain, base: () => string) {
  const account = (record: ChainAccount) => ({
    // Horizon's full link set: stellar-sdk copies a field to `<name>_attr` only when a link of
    // that name exists, and its memo-required check reads `data_attr`.
    _links: {
      self: { href: `${base()}/accounts/${record.id}` },
      ...Object.fromEntries(
        ["transactions", "operations", "payments", "effects", "offers", "trades"].map((name) => [
          name,
          { href: `${base()}/accounts/${record.id}/${name}{?cursor,limit,order}`, templated: true },
        ]),
      ),
      data: { href: `${base()}/accounts/${record.id}/data/{key}`, templated: true },
    },
    id: record.id,
    account_id: record.id,
    sequence: record.sequence.toString(),
    subentry_count: Object.keys(record.data).length,
    last_modified_ledger: record.lastModifiedLedger,
    last_modified_time: iso(
      chain.ledgers[record.lastModifiedLedger - 1]?.closedAt ?? chain.latest.closedAt,
    ),
    thresholds: { low_threshold: 0, med_threshold: 0, high_threshold: 0 },
    flags: {
      auth_required: false,
      auth_revocable: false,
      auth_immutable: false,
      auth_clawback_enabled: false,
    },
    balances: [
      {
        balance: formatAmount7(record.balance),
        buying_liabilities: "0.0000000",
        selling_liabilities: "0.0000000",
        asset_type: "native",
      },
    ],
    signers: [{ weight: 1, key: record.id, type: "ed25519_public_key" }],
    // Horizon always sends `data` ({} when empty), values base64.
    data: { ...record.data },
    num_sponsoring: 0,
    num_sponsored: 0,
    paging_token: record.id,
  });

  const transaction = (tx: LedgerTransaction) => ({
    _links: {
      self: { href: `${base()}/transactions/${tx.hash}` },
      account: { href: `${base()}/accounts/${tx.sourceAccount}` },
      ledger: { href: `${base()}/ledgers/${tx.ledger}` },
    },
    id: tx.hash,
    paging_token: pagingToken(tx),
    successful: tx.successful,
    hash: tx.hash,
    ledger: tx.ledger,
    created_at: iso(tx.closedAt),
    source_account: tx.sourceAccount,
    source_account_sequence: tx.sourceSequence.toString(),
    fee_account: tx.feeAccount,
    fee_charged: tx.feeCharged.toString(),
    max_fee: tx.maxFee.toString(),
    operation_count: tx.operationCount,
    envelope_xdr: tx.envelopeXdr,
    result_xdr: tx.resultXdr,
    result_meta_xdr: "",
    fee_meta_xdr: "",
    memo_type: tx.memoType,
    ...(tx.memo === undefined ? {} : { memo: tx.memo }),
    signatures: tx.signatures,
    valid_after: iso(tx.minTime),
    ...(tx.maxTime === 0 ? {} : { valid_before: iso(tx.maxTime) }),
    preconditions: {
      timebounds: {
        min_time: String(tx.minTime),
        ...(tx.maxTime === 0 ? {} : { max_time: String(tx.maxTime) }),
      },
    },
  });

  const ledger = (header: LedgerHeader) => ({
    _links: { self: { href: `${base()}/ledgers/${header.sequence}` } },
    id: header.hash,
    paging_token: (BigInt(header.sequence) << 32n).toString(),
    hash: header.hash,
    prev_hash: header.prevHash,
    sequence: header.sequence,
    successful_transaction_count: header.successfulTransactionCount,
    failed_transaction_count: header.failedTransactionCount,
    operation_count: header.operationCount,
    tx_set_operation_count: header.operationCount,
    closed_at: iso(header.closedAt),
    total_coins: "100000000000.0000000",
    fee_pool: "0.0000000",
    base_fee_in_stroops: Number(chain.options.baseFee),
    base_reserve_in_stroops: Number(chain.options.baseReserve),
    max_tx_set_size: 1000,
    protocol_version: 19,
  });

  return { account, transaction, ledger };
}

/** A Horizon collection page: `order`, `limit` and `cursor` (a paging token) as Horizon reads them. */
export function page<T extends { paging_token: string }>(
  href: string,
  all: T[],
  query: URLSearchParams,
) {
  const order = query.get("order") === "desc" ? "desc" : "asc";
  const limit = Math.min(Math.max(Number(query.get("limit") ?? 10) || 10, 1), 200);
  const cursor = query.get("cursor");
  const sorted = order === "desc" ? [...all].reverse() : all;
  const after =
    cursor === null || cursor === "" || cursor === "now"
      ? sorted
      : sorted.filter((r) =>
          order === "asc"
            ? BigInt(r.paging_token) > BigInt(cursor)
            : BigInt(r.paging_token) < BigInt(cursor),
        );
  const records = after.slice(0, limit);
  const last = records[records.length - 1]?.paging_token ?? cursor ?? "";
  const first = records[0]?.paging_token ?? cursor ?? "";
  const reverse = order === "asc" ? "desc" : "asc";
  return {
    _links: {
      self: { href: `${href}?cursor=${cursor ?? ""}&limit=${limit}&order=${order}` },
      next: { href: `${href}?cursor=${last}&limit=${limit}&order=${order}` },
      prev: { href: `${href}?cursor=${first}&limit=${limit}&order=${reverse}` },
    },
    _embedded: { records },
  };
}

function pagingToken(tx: LedgerTransaction): string {
  return ((BigInt(tx.ledger) << 32n) + BigInt(tx.order)).toString();
}

/** Horizon's time format: ISO 8601 in seconds. */
export function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");
}
