import type { PaymentDTO } from "../domain/payment-dto.js";
import type { Route, SandboxReply, SandboxRequest } from "./http.js";
import { PiFailure } from "./pi-failure.js";
import type { SandboxPlatform } from "./platform.js";

/** What the Pi face needs besides the platform state. */
export interface PlatformContext {
  platform: SandboxPlatform;
  apiKey: string;
  now: () => number;
}

const ok = (body: unknown): SandboxReply => ({ status: 200, body });

/**
 * The routes of the Pi Platform API face (`/v2`). Payment endpoints want
 * `Authorization: Key <api key>`, `/v2/me` a user's `Bearer` token; both answer 401 otherwise.
 */
export function platformRoutes(ctx: PlatformContext): Route[] {
  const { platform } = ctx;

  const withKey =
    (handler: (request: SandboxRequest) => PaymentDTO | Record<string, unknown>) =>
    (request: SandboxRequest): SandboxReply => {
      if (request.headers.authorization !== `Key ${ctx.apiKey}`) {
        return failure(new PiFailure(401, "unauthorized", "The API key is missing or invalid."));
      }
      if (request.bodyError)
        return failure(new PiFailure(400, "invalid_arguments", request.bodyError));
      try {
        return ok(structuredClone(handler(request)));
      } catch (error) {
        if (error instanceof PiFailure) return failure(error);
        throw error;
      }
    };

  return [
    {
      method: "GET",
      pattern: "/v2/payments/incomplete_server_payments",
      handler: withKey(() => ({ incomplete_server_payments: platform.incompleteServerPayments() })),
    },
    {
      method: "POST",
      pattern: "/v2/payments",
      handler: withKey((request) => platform.createA2U(request.body, ctx.now())),
    },
    {
      method: "GET",
      pattern: "/v2/payments/:id",
      handler: withKey(({ params }) => platform.find(params.id!)),
    },
    {
      method: "POST",
      pattern: "/v2/payments/:id/approve",
      handler: withKey(({ params }) => platform.approve(params.id!)),
    },
    {
      method: "POST",
      pattern: "/v2/payments/:id/complete",
      handler: withKey(({ params, body }) => platform.complete(params.id!, body)),
    },
    {
      method: "POST",
      pattern: "/v2/payments/:id/cancel",
      handler: withKey(({ params }) => platform.cancel(params.id!)),
    },
    {
      method: "GET",
      pattern: "/v2/me",
      handler: ({ headers }) => {
        const token = /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1];
        const user = [...platform.users.values()].find(
          (u) => token !== undefined && u.accessToken === token,
        );
        if (!user)
          return failure(
            new PiFailure(401, "unauthorized", "The access token is missing or invalid."),
          );
        const validUntil = Math.floor(ctx.now() / 1000) + 3600;
        return ok({
          uid: user.uid,
          username: user.username,
          credentials: {
            scopes: user.scopes,
            valid_until: {
              timestamp: validUntil,
              iso8601: new Date(validUntil * 1000).toISOString(),
            },
          },
        });
      },
    },
  ];
}

function failure(error: PiFailure): SandboxReply {
  return { status: error.status, body: error.body() };
}
