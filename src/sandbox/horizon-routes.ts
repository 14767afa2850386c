import type { SandboxChain } from "./chain.js";
import type { LedgerTransaction, SubmitResult } from "./chain-types.js";
import { type ChainView, viewChain } from "./chain-view.js";
import { halType, horizonRecords, iso, notFound, page, problem } from "./horizon-records.js";
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

const percentileKeys = [
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
];

/** The routes of the Horizon face; reads answer as of the request's `asOfLedger` (a lagging instance). */
export function horizonRoutes(ctx: HorizonContext): Route[] {
  const { chain } = ctx;
  const base = ctx.baseUrl;
  const records = horizonRecords(chain, base);
  const hal = (body: unknown): SandboxReply => ({ status: 200, body, contentType: halType });
  const viewOf = (request: SandboxRequest): ChainView =>
    viewChain(chain, request.asOfLedger ?? chain.latest.sequence);

  const submitted = (result: SubmitResult, envelope: string): SandboxReply => {
    if (result.kind === "included") {
      const tx = result.transaction;
      if (tx.successful) return hal(records.transaction(tx));
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

  const malformed = (detail: string, extras?: unknown) =>
    problem(400, "transaction_malformed", "Transaction Malformed", detail, extras);

  const envelopeOf = (request: SandboxRequest): string | undefined => {
    const body = request.body as Record<string, unknown> | undefined;
    return typeof body?.tx === "string" ? body.tx : undefined;
  };

  const successfulUnlessAsked = (query: URLSearchParams) => {
    const includeFailed = query.get("include_failed") === "true";
    return (t: LedgerTransaction) => includeFailed || t.successful;
  };

  return [
    {
      method: "GET",
      pattern: "/",
      handler: (request) => {
        const { latest } = viewOf(request);
        return hal({
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
          ingest_latest_ledger: latest.sequence,
          history_latest_ledger: latest.sequence,
          history_latest_ledger_closed_at: iso(latest.closedAt),
          history_elder_ledger: 1,
          core_latest_ledger: latest.sequence,
          network_passphrase: chain.options.passphrase,
          current_protocol_version: 19,
          supported_protocol_version: 19,
          core_supported_protocol_version: 19,
        });
      },
    },
    {
      method: "GET",
      pattern: "/accounts/:id",
      handler: (request) => {
        const account = viewOf(request).account(request.params.id!);
        return account ? hal(records.account(account)) : notFound();
      },
    },
    {
      method: "GET",
      pattern: "/accounts/:id/data/:key",
      handler: (request) => {
        const data = viewOf(request).account(request.params.id!)?.data ?? {};
        const key = request.params.key!;
        return Object.hasOwn(data, key) ? hal({ value: data[key] }) : notFound();
      },
    },
    {
      method: "GET",
      pattern: "/accounts/:id/transactions",
      handler: (request) => {
        const id = request.params.id!;
        const view = viewOf(request);
        if (!view.account(id)) return notFound();
        const wanted = successfulUnlessAsked(request.query);
        const found = view.transactions().filter((t) => t.accounts.includes(id) && wanted(t));
        return hal(
          page(
            `${base()}/accounts/${id}/transactions`,
            found.map(records.transaction),
            request.query,
          ),
        );
      },
    },
    {
      method: "GET",
      pattern: "/transactions",
      handler: (request) => {
        const found = viewOf(request).transactions().filter(successfulUnlessAsked(request.query));
        return hal(page(`${base()}/transactions`, found.map(records.transaction), request.query));
      },
    },
    {
      method: "GET",
      pattern: "/transactions/:hash",
      handler: (request) => {
        const tx = viewOf(request).transaction(request.params.hash!.toLowerCase());
        return tx ? hal(records.transaction(tx)) : notFound();
      },
    },
    {
      method: "POST",
      pattern: "/transactions",
      handler: async (request) => {
        const envelope = envelopeOf(request);
        if (envelope === undefined)
          return malformed("The `tx` form field is missing.", { envelope_xdr: "" });
        const outcome = chain.submit(envelope);
        if (outcome.kind === "malformed")
          return malformed(outcome.detail, { envelope_xdr: envelope });
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
        if (envelope === undefined) return malformed("The `tx` form field is missing.");
        const outcome = chain.submit(envelope);
        switch (outcome.kind) {
          case "malformed":
            return malformed(outcome.detail);
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
      handler: (request) =>
        hal(
          page(`${base()}/ledgers`, viewOf(request).ledgers().map(records.ledger), request.query),
        ),
    },
    {
      method: "GET",
      pattern: "/ledgers/:sequence",
      handler: (request) => {
        const ledger = viewOf(request).ledger(Number(request.params.sequence));
        return ledger ? hal(records.ledger(ledger)) : notFound();
      },
    },
    {
      method: "GET",
      pattern: "/fee_stats",
      handler: (request) => {
        const fee = chain.options.baseFee.toString();
        const percentiles = Object.fromEntries(percentileKeys.map((k) => [k, fee]));
        return hal({
          last_ledger: String(viewOf(request).latest.sequence),
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
      // Friendbot submits to the network, like `POST /transactions`: never a lagging read.
      lags: false,
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
