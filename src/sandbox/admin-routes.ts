import { z } from "zod";
import type { PaymentDTO } from "../domain/payment-dto.js";
import { type FaultInjector, faultRuleSchema } from "./faults.js";
import type { FundedAccount } from "./funding.js";
import type { Route, SandboxReply } from "./http.js";
import { PiFailure } from "./pi-failure.js";
import type {
  ClosedLedger,
  LedgerPayment,
  RequestLogEntry,
  SandboxInfo,
  UserPaymentInit,
} from "./types.js";
import type { SandboxUserInfo, SandboxUserInit } from "./users.js";

/** What the admin endpoints steer. */
export interface AdminContext {
  info: () => SandboxInfo;
  addUser: (init?: SandboxUserInit) => SandboxUserInfo;
  payments: () => PaymentDTO[];
  ledgerPayments: () => LedgerPayment[];
  closeLedger: () => Promise<ClosedLedger>;
  requests: () => RequestLogEntry[];
  faults: FaultInjector;
  createUserPayment: (args: UserPaymentInit) => PaymentDTO;
  /** Adds Pi to an account (body `{address?, amount}`). */
  fund: (body: unknown) => FundedAccount;
  /** Sets an account's balance (body `{address?, amount}`). */
  setBalance: (body: unknown) => FundedAccount;
}

/**
 * `/__sandbox/…`: the admin endpoints, so that a sandbox started by the command line can
 * be steered from another process (faults, ledgers, users). Never subject to faults.
 */
export function adminRoutes(ctx: AdminContext): Route[] {
  const guard =
    (fn: (body: unknown) => unknown) =>
    async (request: { body: unknown }): Promise<SandboxReply> => {
      try {
        return { status: 200, body: (await fn(request.body)) ?? { ok: true } };
      } catch (error) {
        if (error instanceof PiFailure) return { status: error.status, body: error.body() };
        return {
          status: 400,
          body: { error: "invalid_arguments", error_message: (error as Error).message },
        };
      }
    };
  const rulesOf = (body: unknown) => {
    const rules = (body as { rules?: unknown } | undefined)?.rules;
    return z.array(faultRuleSchema).parse(rules);
  };
  return [
    { method: "GET", pattern: "/__sandbox", handler: guard(() => ctx.info()) },
    { method: "GET", pattern: "/__sandbox/payments", handler: guard(() => ctx.payments()) },
    {
      method: "GET",
      pattern: "/__sandbox/ledger-payments",
      handler: guard(() => ctx.ledgerPayments()),
    },
    { method: "GET", pattern: "/__sandbox/requests", handler: guard(() => ctx.requests()) },
    { method: "POST", pattern: "/__sandbox/ledgers", handler: guard(() => ctx.closeLedger()) },
    {
      method: "POST",
      pattern: "/__sandbox/users",
      handler: guard((body) => {
        const {
          seed: _seed,
          accessToken: _token,
          ...user
        } = ctx.addUser((body ?? {}) as SandboxUserInit);
        return user;
      }),
    },
    {
      method: "POST",
      pattern: "/__sandbox/user-payments",
      handler: guard((body) => ctx.createUserPayment(body as UserPaymentInit)),
    },
    { method: "POST", pattern: "/__sandbox/fund", handler: guard((body) => ctx.fund(body ?? {})) },
    {
      method: "PUT",
      pattern: "/__sandbox/balance",
      handler: guard((body) => ctx.setBalance(body ?? {})),
    },
    {
      method: "PUT",
      pattern: "/__sandbox/faults",
      handler: guard((body) => {
        ctx.faults.set(rulesOf(body));
      }),
    },
    {
      method: "POST",
      pattern: "/__sandbox/faults",
      handler: guard((body) => {
        ctx.faults.add(rulesOf(body));
      }),
    },
    {
      method: "DELETE",
      pattern: "/__sandbox/faults",
      handler: guard(() => {
        ctx.faults.clear();
      }),
    },
  ];
}
