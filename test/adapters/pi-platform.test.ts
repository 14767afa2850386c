import { inspect } from "node:util";
import ky from "ky";
import { describe, expect, test } from "vitest";
import { createPiPlatform, mapPiError, piErrorCodes } from "../../src/adapters/index.js";
import {
  isPiApiError,
  isValidationError,
  OngoingPaymentError,
  parsePaymentArgs,
} from "../../src/domain/index.js";
import type { Sandbox } from "../../src/sandbox/index.js";
import { piPlatformContract } from "../contract/pi-platform.contract.js";
import { testSandbox } from "../helpers/sandbox.js";

const platformFor = (
  sandbox: Sandbox,
  extra: Partial<Parameters<typeof createPiPlatform>[0]> = {},
) =>
  createPiPlatform({
    apiKey: sandbox.apiKey,
    baseUrl: sandbox.apiUrl,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });

piPlatformContract("createPiPlatform over HTTP", async () => {
  const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
  return { sandbox, platform: platformFor(sandbox) };
});

piPlatformContract("createPiPlatform on a caller's ky instance", async () => {
  const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
  const seen: string[] = [];
  const base = ky.create({
    hooks: { beforeRequest: [(request) => void seen.push(request.method)] },
  });
  return { sandbox, platform: platformFor(sandbox, { ky: base }) };
});

const errorOf = async (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe("createPiPlatform", () => {
  test("every Pi error code the sandbox produces maps to a typed error with status, code and message", async () => {
    const sandbox = await testSandbox({
      ledgerIntervalMs: 10,
      maxCancelledPayments: 1,
      users: [
        {},
        {},
        { uid: "no-scope", scopes: [] },
        { uid: "no-wallet", wallet: false },
        { uid: "bad-wallet", wallet: "invalid" },
      ],
    });
    const platform = platformFor(sandbox);
    const args = (uid: string) => parsePaymentArgs({ amount: "1", memo: "m", metadata: {}, uid });
    const seen = new Map<string, unknown>();
    const record = async (promise: Promise<unknown>) => {
      const error = await errorOf(promise);
      expect(isPiApiError(error)).toBe(true);
      seen.set((error as { code: string }).code, error);
      return error as { piCode: string };
    };
    await record(platform.createPayment(args("nobody")));
    await record(platform.createPayment(args("no-scope")));
    await record(platform.createPayment(args("no-wallet")));
    await record(platform.createPayment(args("bad-wallet")));
    await record(platform.getPayment("missing"));
    const first = await platform.createPayment(args(sandbox.users[0]!.uid));
    await record(platform.createPayment(args(sandbox.users[1]!.uid)));
    await record(platform.completePayment(first.identifier, "f".repeat(64)));
    await platform.cancelPayment(first.identifier);
    await record(platform.completePayment(first.identifier, "f".repeat(64)));
    await record(platform.createPayment(args(sandbox.users[1]!.uid)));
    expect([...seen.keys()].sort()).toEqual(
      [
        "PI_USER_NOT_FOUND",
        "PI_MISSING_SCOPE",
        "PI_MISSING_WALLET",
        "PI_INVALID_ADDRESS",
        "PI_PAYMENT_NOT_FOUND",
        "PI_ONGOING_PAYMENT_FOUND",
        "PI_NOT_VERIFIED",
        "PI_CANCELLED_PAYMENT",
        "PI_TOO_MANY_CANCELLED_PAYMENTS",
      ].sort(),
    );
    expect(seen.get("PI_ONGOING_PAYMENT_FOUND")).toBeInstanceOf(OngoingPaymentError);
    expect(seen.get("PI_NOT_VERIFIED")).toMatchObject({ retryable: true, status: 400 });
    expect(seen.get("PI_PAYMENT_NOT_FOUND")).toMatchObject({ status: 404, retryable: false });
  });

  test("the mapping function reads every documented code, and falls back for the unknown", () => {
    for (const code of Object.keys(piErrorCodes)) {
      const error = mapPiError({
        method: "POST",
        path: "/v2/payments",
        status: 400,
        body: JSON.stringify({ error: code, error_message: "m" }),
      });
      expect(error.code).toBe(`PI_${code.toUpperCase()}`);
      expect(error.piCode).toBe(code);
    }
    const unknown = mapPiError({
      method: "POST",
      path: "/x",
      status: 400,
      body: JSON.stringify({ error: "brand_new" }),
    });
    expect(unknown).toMatchObject({ code: "PI_API_ERROR", piCode: "brand_new", retryable: false });
    const html = mapPiError({
      method: "POST",
      path: "/x",
      status: 502,
      body: "<html>Bad Gateway</html>",
    });
    expect(html).toMatchObject({ code: "PI_SERVER_ERROR", retryable: true, outcomeUnknown: true });
    expect(mapPiError({ method: "GET", path: "/x", status: 418, body: "" })).toMatchObject({
      code: "PI_HTTP_ERROR",
      retryable: false,
    });
    expect(mapPiError({ method: "POST", path: "/x" })).toMatchObject({
      code: "PI_UNREACHABLE",
      outcomeUnknown: true,
    });
    const verification = mapPiError({
      method: "POST",
      path: "/x",
      status: 400,
      body: JSON.stringify({
        error: "verification_failed",
        error_message: "no",
        verification_error: "tx_memo_payment_identifier_mismatch",
      }),
    });
    expect(verification.verificationError).toBe("tx_memo_payment_identifier_mismatch");
  });

  test("a bad API key is PI_UNAUTHORIZED, and the key is in no error", async () => {
    const sandbox = await testSandbox();
    const platform = createPiPlatform({ apiKey: "wrong-key-123456", baseUrl: sandbox.apiUrl });
    const error = await errorOf(platform.incompleteServerPayments());
    expect(error).toMatchObject({ code: "PI_UNAUTHORIZED", status: 401 });
    const text = `${inspect(error, { depth: 20, showHidden: true })} ${JSON.stringify(error)}`;
    expect(text).not.toContain("wrong-key-123456");
  });

  test("reads are retried through 5xx and HTML pages; a failure that persists is typed and retryable", async () => {
    const sandbox = await testSandbox({
      faults: [
        {
          route: "GET /v2/payments/incomplete_server_payments",
          kind: "error",
          status: 502,
          body: "html",
          times: 2,
        },
      ],
    });
    const platform = platformFor(sandbox);
    expect(await platform.incompleteServerPayments()).toEqual([]);
    expect(sandbox.requests()).toHaveLength(3);

    sandbox.setFaults([
      { route: "GET /v2/payments/incomplete_server_payments", kind: "error", status: 500 },
    ]);
    const error = await errorOf(platform.incompleteServerPayments());
    expect(error).toMatchObject({ code: "PI_UNKNOWN_ERROR", status: 500, retryable: true });
  });

  test("creating a payment is never retried: a 5xx after it was applied is an unknown outcome", async () => {
    const sandbox = await testSandbox({
      faults: [{ route: "POST /v2/payments", kind: "error", status: 500, when: "after" }],
    });
    const platform = platformFor(sandbox);
    const error = await errorOf(
      platform.createPayment(
        parsePaymentArgs({ amount: "1", memo: "m", metadata: {}, uid: sandbox.users[0]!.uid }),
      ),
    );
    // Repeating a create is not safe (it may make a second payment): look for it first.
    expect(error).toMatchObject({ outcomeUnknown: true, retryable: false });
    expect((error as Error).message).toContain("incomplete_server_payments");
    expect(sandbox.requests().filter((r) => r.method === "POST")).toHaveLength(1);
    expect(sandbox.payments()).toHaveLength(1);
  });

  test("a lost answer on complete is retried and the replay's already_completed counts as success", async () => {
    const sandbox = await testSandbox({ ledgerIntervalMs: 10 });
    const platform = platformFor(sandbox);
    const payment = await platform.createPayment(
      parsePaymentArgs({ amount: "1", memo: "m", metadata: {}, uid: sandbox.users[0]!.uid }),
    );
    const { createPiChain } = await import("../../src/adapters/index.js");
    const chain = createPiChain({
      network: sandbox.network,
      walletSeed: sandbox.walletSeed,
      horizonUrl: sandbox.horizonUrl,
    });
    const tx = await chain.buildPayment({
      paymentId: payment.identifier,
      to: payment.to_address,
      amount: parsePaymentArgs({ amount: "1", memo: "m", metadata: {}, uid: "u" }).amount,
    });
    await chain.submit(tx);
    sandbox.setFaults([{ route: "POST /v2/payments/*/complete", kind: "drop", times: 1 }]);
    const completed = await platform.completePayment(payment.identifier, tx.txid);
    expect(completed.status.developer_completed).toBe(true);
    expect(
      sandbox
        .requests()
        .filter((r) => r.path.endsWith("/complete"))
        .map((r) => r.status),
    ).toEqual(["dropped", 400]);
  });

  test("an answer that is not a payment is PI_BAD_RESPONSE, never a silent undefined", async () => {
    const sandbox = await testSandbox({
      faults: [{ route: "GET /v2/payments/*", kind: "tamper", payment: { amount: "lots" } }],
    });
    const platform = platformFor(sandbox);
    const payment = await platform.createPayment(
      parsePaymentArgs({ amount: "1", memo: "m", metadata: {}, uid: sandbox.users[0]!.uid }),
    );
    expect(await errorOf(platform.getPayment(payment.identifier))).toMatchObject({
      code: "PI_BAD_RESPONSE",
    });
  });

  test("Pi unreachable is PI_UNREACHABLE, and a timeout too", async () => {
    const sandbox = await testSandbox({
      faults: [{ route: "GET /v2/payments/*", kind: "latency", ms: 300 }],
    });
    const slow = createPiPlatform({
      apiKey: sandbox.apiKey,
      baseUrl: sandbox.apiUrl,
      timeoutMs: 50,
      retry: false,
    });
    expect(await errorOf(slow.getPayment("abc"))).toMatchObject({
      code: "PI_UNREACHABLE",
      retryable: true,
    });
    const closed = createPiPlatform({ apiKey: "k", baseUrl: "http://127.0.0.1:1", retry: false });
    expect(await errorOf(closed.getPayment("abc"))).toMatchObject({ code: "PI_UNREACHABLE" });
  });

  test("bad options and bad ids are validation errors before anything is sent", async () => {
    const sandbox = await testSandbox();
    for (const options of [
      { apiKey: "" },
      { apiKey: "k", baseUrl: "not a url" },
      { apiKey: "k", retries: 3 },
      { apiKey: "k", timeoutMs: -1 },
    ]) {
      let thrown: unknown;
      try {
        createPiPlatform(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(isValidationError(thrown)).toBe(true);
      expect((thrown as { code: string }).code).toBe("INVALID_OPTIONS");
    }
    const platform = platformFor(sandbox);
    for (const id of ["../me", "a/b", "", "x".repeat(65)]) {
      expect(isValidationError(await errorOf(platform.getPayment(id)))).toBe(true);
    }
    expect(isValidationError(await errorOf(platform.completePayment("abc", "not-a-hash")))).toBe(
      true,
    );
    expect(isValidationError(await errorOf(platform.me(" ")))).toBe(true);
    expect(sandbox.requests()).toEqual([]);
  });
});
