import ky, { HTTPError, type KyInstance, TimeoutError } from "ky";
import { z } from "zod";
import { ChainError } from "../domain/errors.js";

/**
 * What one Horizon instance answered, and how fresh its view was. Horizon runs as several
 * instances behind a load balancer, each ingesting ledgers on its own, and stamps every
 * answer with `Latest-Ledger`: the data is consistent with that ledger, and says nothing
 * about any later one. A "not found" is evidence only up to it.
 */
export interface Viewed<T> {
  value: T;
  /** The `Latest-Ledger` header, or undefined when the answer carried none (then it proves no absence). */
  asOfLedger: number | undefined;
  /** The server's clock (`Date` header), unix seconds, when sent. */
  serverTime: number | undefined;
}

const digits = z.string().regex(/^\d+$/);

const ledgerRecord = z.looseObject({
  sequence: z.number().int().positive(),
  closed_at: z.string().refine((s) => !Number.isNaN(Date.parse(s)), "must be a date"),
});

const accountRecord = z.looseObject({
  id: z.string().min(1),
  sequence: digits,
  last_modified_ledger: z.number().int().min(0),
  balances: z.array(z.looseObject({ asset_type: z.string(), balance: z.string() })),
});

/** A transaction as Horizon lists it; the fields the library reads, checked. */
export const transactionRecord = z.looseObject({
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  ledger: z.number().int().positive(),
  successful: z.boolean(),
  source_account: z.string().min(1),
  source_account_sequence: digits,
  envelope_xdr: z.string().min(1),
  memo_type: z.string().optional(),
  memo: z.string().optional(),
  paging_token: digits,
  created_at: z.string().optional(),
});

/** A transaction record as {@link transactionRecord} checks it. */
export type TransactionRecord = z.infer<typeof transactionRecord>;

const rootRecord = z.looseObject({ network_passphrase: z.string() });

const pageOf = <T extends z.ZodType>(record: T) =>
  z.looseObject({ _embedded: z.looseObject({ records: z.array(record) }) });

/** An account as one view of Horizon has it. */
export interface AccountState {
  sequence: string;
  /** The last ledger that changed it: every transaction it took part in is at or before it. */
  lastModifiedLedger: number;
  /** Its native balance as Horizon prints it ("12.5000000"). */
  nativeBalance: string | undefined;
}

/** The reads the library makes of Horizon, each answer checked and stamped with its view. */
export interface HorizonReader {
  root(): Promise<Viewed<{ networkPassphrase: string }>>;
  /** The latest closed ledger of the instance that answered. */
  latestLedger(): Promise<Viewed<{ sequence: number; closedAt: number }>>;
  /** An account, or undefined when that view has none. */
  account(id: string): Promise<Viewed<AccountState | undefined>>;
  /** A transaction by hash, or undefined when that view has none. */
  transaction(hash: string): Promise<Viewed<TransactionRecord | undefined>>;
  /** A page of an account's transactions (failed ones included), newest first. */
  accountTransactions(
    id: string,
    page: { limit: number; cursor?: string | undefined },
  ): Promise<Viewed<TransactionRecord[] | undefined>>;
}

/** Options of {@link createHorizonReader}. */
export interface HorizonReaderOptions {
  url: string;
  /** Per-request timeout in ms. @default 20000 */
  timeoutMs?: number;
  /** A ky instance to build on. */
  ky?: KyInstance;
}

/**
 * Horizon's reads over ky, keeping what stellar-sdk's call builders drop: the answer's
 * `Latest-Ledger` and `Date` headers, also on a 404. Every record is checked against the
 * fields the library reads; an answer of another shape is an error, never a guess.
 */
export function createHorizonReader(options: HorizonReaderOptions): HorizonReader {
  const client = (options.ky ?? ky).extend({
    prefixUrl: options.url,
    timeout: options.timeoutMs ?? 20_000,
    retry: { limit: 0 },
    headers: { Accept: "application/hal+json, application/json" },
  });

  async function read<T extends z.ZodType>(
    path: string,
    schema: T,
    what: string,
    searchParams?: Record<string, string>,
  ): Promise<Viewed<z.output<T> | undefined>> {
    let response: Response;
    try {
      response = await client.get(path, searchParams ? { searchParams } : {});
    } catch (error) {
      if (error instanceof HTTPError && error.response.status === 404) {
        return { value: undefined, ...stampOf(error.response) };
      }
      throw readFailure(what, error);
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new ChainError(
        `Horizon answered ${what} with a body that is not what its API documents. Nothing was assumed from it; retry later.`,
        "HORIZON_BAD_RESPONSE",
        { status: response.status, retryable: true },
      );
    }
    return { value: parsed.data, ...stampOf(response) };
  }

  const present = <T>(viewed: Viewed<T | undefined>, what: string): Viewed<T> => {
    if (viewed.value === undefined) {
      throw new ChainError(`Horizon found nothing while ${what}.`, "HORIZON_NOT_FOUND", {
        status: 404,
      });
    }
    return viewed as Viewed<T>;
  };

  return {
    async root() {
      const viewed = present(await read("", rootRecord, "reading its root"), "reading its root");
      return { ...viewed, value: { networkPassphrase: viewed.value.network_passphrase } };
    },

    async latestLedger() {
      const viewed = await read("ledgers", pageOf(ledgerRecord), "reading the latest ledger", {
        order: "desc",
        limit: "1",
      });
      const [ledger] = viewed.value?._embedded.records ?? [];
      if (!ledger) {
        throw new ChainError("Horizon returned no ledger.", "HORIZON_BAD_RESPONSE", {
          retryable: true,
        });
      }
      return {
        ...viewed,
        value: {
          sequence: ledger.sequence,
          closedAt: Math.floor(Date.parse(ledger.closed_at) / 1000),
        },
      };
    },

    async account(id) {
      const viewed = await read(
        `accounts/${encodeURIComponent(id)}`,
        accountRecord,
        `loading account ${id}`,
      );
      const account = viewed.value;
      return {
        ...viewed,
        value: account && {
          sequence: account.sequence,
          lastModifiedLedger: account.last_modified_ledger,
          nativeBalance: account.balances.find((b) => b.asset_type === "native")?.balance,
        },
      };
    },

    transaction: (hash) =>
      read(`transactions/${hash}`, transactionRecord, `looking up transaction ${hash}`),

    async accountTransactions(id, page) {
      const viewed = await read(
        `accounts/${encodeURIComponent(id)}/transactions`,
        pageOf(transactionRecord),
        `listing the transactions of ${id}`,
        {
          order: "desc",
          limit: String(page.limit),
          include_failed: "true",
          ...(page.cursor === undefined ? {} : { cursor: page.cursor }),
        },
      );
      return { ...viewed, value: viewed.value?._embedded.records };
    },
  };
}

function stampOf(response: Response): Pick<Viewed<unknown>, "asOfLedger" | "serverTime"> {
  const ledger = Number(response.headers.get("latest-ledger"));
  const date = Date.parse(response.headers.get("date") ?? "");
  return {
    asOfLedger: Number.isInteger(ledger) && ledger > 0 ? ledger : undefined,
    serverTime: Number.isNaN(date) ? undefined : Math.floor(date / 1000),
  };
}

function readFailure(what: string, error: unknown): ChainError {
  if (error instanceof HTTPError) {
    const status = error.response.status;
    return new ChainError(
      `Horizon failed while ${what}: HTTP ${status}. Retry later.`,
      status >= 500 ? "HORIZON_SERVER_ERROR" : "HORIZON_HTTP_ERROR",
      { status, retryable: status >= 500 || status === 429, cause: error },
    );
  }
  const reason = error instanceof TimeoutError ? "no answer in time" : "no answer";
  return new ChainError(
    `Horizon failed while ${what}: ${reason} (${(error as Error)?.message ?? String(error)}). Retry later.`,
    "HORIZON_UNREACHABLE",
    { retryable: true, cause: error },
  );
}
