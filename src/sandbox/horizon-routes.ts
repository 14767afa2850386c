import { formatAmount7 } from "../domain/amount.js";
import type {
  ChainAccount,
  LedgerHeader,
  LedgerTransaction,
  SandboxChain,
  SubmitResult,
} from "./chain.js";
import type { Route, SandboxReply, SandboxRequest } from "./http.js";

/** What the Horizon face needs besides the chain. */
export interface HorizonContext {
  chain: SandboxChain;
  baseUrl: () => string;
  /** How long `POST /transactions` holds a request before answering 504, in ms. */
  submitTimeoutMs: number;
  /** Funds a new account on a test network (friendbot), or undefined on Mainnet. */
  friendbotAmount: bigint | undefined;
}

const problemType = "application/problem+json; charset=utf-8";
const halType = "application/hal+json; charset=utf-8";

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

const notFound = () =>
  problem(
    404,
    "not_found",
    "Resource Missing",
    "The resource at the url requested was not found.  This usually occurs for one of two reasons:  The url requested is not valid, or no data in our database could be found with the parameters provided.",
  );

/** The routes of the Horizon face. */
export function horizonRoutes(ctx: HorizonContext): Route[] {
  const { chain } = ctx;
  const base = ctx.baseUrl;
  const hal = (body: unknown): SandboxReply => ({ status: 200, body, contentType: halType });

  const accountBody = (account: ChainAccount) => ({
    _links: {
      self: { href: `${base()}/accounts/${account.id}` },
      transactions: {
        href: `${base()}/accounts/${account.id}/transactions{?cursor,limit,order}`,
        templated: true,
      },
    },
    id: account.id,
    account_id: account.id,
    sequence: account.sequence.toString(),
    subentry_count: 0,
    last_modified_ledger: account.lastModifiedLedger,
    last_modified_time: iso(
      chain.ledgers[account.lastModifiedLedger - 1]?.closedAt ?? chain.latest.closedAt,
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
        balance: formatAmount7(account.balance),
        buying_liabilities: "0.0000000",
        selling_liabilities: "0.0000000",
        asset_type: "native",
      },
    ],
    signers: [{ weight: 1, key: account.id, type: "ed25519_public_key" }],
    data: {},
    num_sponsoring: 0,
    num_sponsored: 0,
    paging_token: account.id,
  });

  const transactionBody = (tx: LedgerTransaction) => ({
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

  const ledgerBody = (ledger: LedgerHeader) => ({
    _links: { self: { href: `${base()}/ledgers/${ledger.sequence}` } },
    id: ledger.hash,
    paging_token: (BigInt(ledger.sequence) << 32n).toString(),
    hash: ledger.hash,
    prev_hash: ledger.prevHash,
    sequence: ledger.sequence,
    successful_transaction_count: ledger.successfulTransactionCount,
    failed_transaction_count: ledger.failedTransactionCount,
    operation_count: ledger.operationCount,
    tx_set_operation_count: ledger.operationCount,
    closed_at: iso(ledger.closedAt),
    total_coins: "100000000000.0000000",
    fee_pool: "0.0000000",
    base_fee_in_stroops: Number(chain.options.baseFee),
    base_reserve_in_stroops: Number(chain.options.baseReserve),
    max_tx_set_size: 1000,
    protocol_version: 19,
  });

  const submitted = (result: SubmitResult, envelope: string): SandboxReply => {
    if (result.kind === "included") {
      const tx = result.transaction;
      if (tx.successful) return hal(transactionBody(tx));
      return transactionFailed(tx.envelopeXdr, tx.resultXdr, tx.resultCodes, tx.hash);
    }
    return transactionFailed(envelope, result.resultXdr, result.codes, result.hash);
  };

  const transactionFailed = (
    envelope: string,
    resultXdr: string,
    codes: LedgerTransaction["resultCodes"],
    hash: string,
  ) =>
    problem(
      400,
      "transaction_failed",
      "Transaction Failed",
      "The transaction failed when submitted to the stellar network. The `extras.result_codes` field on this response contains further details.  Descriptions of each code can be found at: https://developers.stellar.org/docs/data/apis/horizon/api-reference/errors/result-codes",
      { envelope_xdr: envelope, result_xdr: resultXdr, result_codes: codes, hash },
    );

  const envelopeOf = (request: SandboxRequest): string | undefined => {
    const body = request.body as Record<string, unknown> | undefined;
    return typeof body?.tx === "string" ? body.tx : undefined;
  };

  return [
    {
      method: "GET",
      pattern: "/",
      handler: () =>
        hal({
          _links: {
            account: { href: `${base()}/accounts/{account_id}`, templated: true },
            ledger: { href: `${base()}/ledger/{sequence}`, templated: true },
            transactions: { href: `${base()}/transactions{?cursor,limit,order}`, templated: true },
            friendbot:
              ctx.friendbotAmount === undefined
                ? undefined
                : { href: `${base()}/friendbot{?addr}`, templated: true },
          },
          horizon_version: "pi-payments-sandbox",
          core_version: "pi-payments-sandbox",
          ingest_latest_ledger: chain.latest.sequence,
          history_latest_ledger: chain.latest.sequence,
          history_latest_ledger_closed_at: iso(chain.latest.closedAt),
          history_elder_ledger: 1,
          core_latest_ledger: chain.latest.sequence,
          network_passphrase: chain.options.passphrase,
          current_protocol_version: 19,
          supported_protocol_version: 19,
          core_supported_protocol_version: 19,
        }),
    },
    {
      method: "GET",
      pattern: "/accounts/:id",
      handler: ({ params }) => {
        const account = chain.accounts.get(params.id!);
        return account ? hal(accountBody(account)) : notFound();
      },
    },
    {
      method: "GET",
      pattern: "/accounts/:id/transactions",
      handler: ({ params, query }) => {
        const id = params.id!;
        if (!chain.accounts.has(id)) return notFound();
        const includeFailed = query.get("include_failed") === "true";
        const records = chain
          .transactions()
          .filter((t) => t.accounts.includes(id) && (includeFailed || t.successful));
        return hal(
          page(`${base()}/accounts/${id}/transactions`, records.map(transactionBody), query),
        );
      },
    },
    {
      method: "GET",
      pattern: "/transactions",
      handler: ({ query }) => {
        const includeFailed = query.get("include_failed") === "true";
        const records = chain.transactions().filter((t) => includeFailed || t.successful);
        return hal(page(`${base()}/transactions`, records.map(transactionBody), query));
      },
    },
    {
      method: "GET",
      pattern: "/transactions/:hash",
      handler: ({ params }) => {
        const tx = chain.transaction(params.hash!.toLowerCase());
        return tx ? hal(transactionBody(tx)) : notFound();
      },
    },
    {
      method: "POST",
      pattern: "/transactions",
      handler: async (request) => {
        const envelope = envelopeOf(request);
        if (envelope === undefined) {
          return problem(
            400,
            "transaction_malformed",
            "Transaction Malformed",
            "The `tx` form field is missing.",
            {
              envelope_xdr: "",
            },
          );
        }
        const outcome = chain.submit(envelope);
        if (outcome.kind === "malformed") {
          return problem(400, "transaction_malformed", "Transaction Malformed", outcome.detail, {
            envelope_xdr: envelope,
          });
        }
        if (outcome.kind !== "pending") return submitted(outcome, envelope);
        // Horizon holds the request until the transaction is in a closed ledger, or times out.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), ctx.submitTimeoutMs);
        });
        const result = await Promise.race([outcome.result, timeout]);
        clearTimeout(timer);
        if (result === "timeout") {
          return problem(
            504,
            "timeout",
            "Timeout",
            "Your request timed out before completing.  Please try your request again. If you are submitting a transaction make sure you are sending exactly the same transaction (with the same sequence number).",
          );
        }
        return submitted(result, envelope);
      },
    },
    {
      method: "POST",
      pattern: "/transactions_async",
      handler: (request) => {
        const envelope = envelopeOf(request);
        if (envelope === undefined) {
          return problem(
            400,
            "transaction_malformed",
            "Transaction Malformed",
            "The `tx` form field is missing.",
          );
        }
        const outcome = chain.submit(envelope);
        switch (outcome.kind) {
          case "malformed":
            return problem(400, "transaction_malformed", "Transaction Malformed", outcome.detail);
          case "rejected":
            return {
              status: 400,
              contentType: halType,
              body: { tx_status: "ERROR", hash: outcome.hash, error_result_xdr: outcome.resultXdr },
            };
          case "included":
            return {
              status: 200,
              contentType: halType,
              body: { tx_status: "DUPLICATE", hash: outcome.transaction.hash },
            };
          case "pending":
            return {
              status: outcome.fresh ? 201 : 200,
              contentType: halType,
              body: { tx_status: outcome.fresh ? "PENDING" : "DUPLICATE", hash: outcome.hash },
            };
        }
      },
    },
    {
      method: "GET",
      pattern: "/ledgers",
      handler: ({ query }) => hal(page(`${base()}/ledgers`, chain.ledgers.map(ledgerBody), query)),
    },
    {
      method: "GET",
      pattern: "/ledgers/:sequence",
      handler: ({ params }) => {
        const ledger = chain.ledgers[Number(params.sequence) - 1];
        return ledger ? hal(ledgerBody(ledger)) : notFound();
      },
    },
    {
      method: "GET",
      pattern: "/fee_stats",
      handler: () => {
        const fee = chain.options.baseFee.toString();
        const percentiles = Object.fromEntries(
          [
            "max",
            "min",
            "mode",
            "p10",
            "p20",
            "p30",
            "p40",
            "p50",
            "p60",
            "p70",
            "p80",
            "p90",
            "p95",
            "p99",
          ].map((k) => [k, fee]),
        );
        return hal({
          last_ledger: String(chain.latest.sequence),
          last_ledger_base_fee: fee,
          ledger_capacity_usage: "0.01",
          fee_charged: percentiles,
          max_fee: percentiles,
        });
      },
    },
    {
      method: "GET",
      pattern: "/friendbot",
      handler: ({ query }) => {
        if (ctx.friendbotAmount === undefined) return notFound();
        const addr = query.get("addr") ?? "";
        if (!/^G[A-Z2-7]{55}$/.test(addr)) {
          return problem(
            400,
            "bad_request",
            "Bad Request",
            "The request you sent was invalid in some way.",
            {
              invalid_field: "addr",
              reason: "base32 decode failed",
            },
          );
        }
        if (chain.accounts.has(addr)) {
          return problem(
            400,
            "transaction_failed",
            "Transaction Failed",
            "The account already exists.",
            {
              result_codes: { transaction: "tx_failed", operations: ["op_already_exists"] },
            },
          );
        }
        chain.createAccount(addr, ctx.friendbotAmount);
        return hal({ successful: true, ledger: chain.latest.sequence });
      },
    },
  ];
}

/** A Horizon collection page: `order`, `limit` and `cursor` (a paging token) as Horizon reads them. */
function page<T extends { paging_token: string }>(href: string, all: T[], query: URLSearchParams) {
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

function iso(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(".000Z", "Z");
}
