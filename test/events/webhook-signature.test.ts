import { createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import {
  isWebhookVerificationError,
  signWebhook,
  verifyWebhook,
  WebhookVerificationError,
} from "../../src/index.js";

const secret = "whsec-test-0123456789abcdef";
const body = JSON.stringify({ v: 1, id: "evt_7", seq: 7, type: "payout.completed", key: "k1" });
const now = 1_800_000_000;
const at = (seconds: number) => () => seconds * 1000;

/** The code verifyWebhook throws with, or "passed". */
function refusal(...args: Parameters<typeof verifyWebhook>): string {
  try {
    verifyWebhook(...args);
    return "passed";
  } catch (error) {
    expect(isWebhookVerificationError(error)).toBe(true);
    expect(error).toBeInstanceOf(WebhookVerificationError);
    expect((error as Error).message).not.toContain(secret);
    return (error as WebhookVerificationError).code;
  }
}

describe("webhook signatures", () => {
  test("the header is t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>", () => {
    const expected = createHmac("sha256", secret).update(`${now}.${body}`).digest("hex");
    expect(signWebhook(body, secret, now)).toBe(`t=${now},v1=${expected}`);
  });

  test("a genuine request verifies and gives its event back, from a string or a Buffer", () => {
    const header = signWebhook(body, secret, now);
    expect(verifyWebhook(body, header, secret, { now: at(now + 10) })).toMatchObject({
      id: "evt_7",
      type: "payout.completed",
    });
    expect(verifyWebhook(Buffer.from(body), header, secret, { now: at(now) }).seq).toBe(7);
  });

  test("a tampered body is refused, by a single byte or by re-serialising the JSON", () => {
    const header = signWebhook(body, secret, now);
    expect(refusal(body.replace("k1", "k2"), header, secret, { now: at(now) })).toBe(
      "WEBHOOK_SIGNATURE_INVALID",
    );
    const reformatted = JSON.stringify(JSON.parse(body), null, 2);
    expect(refusal(reformatted, header, secret, { now: at(now) })).toBe(
      "WEBHOOK_SIGNATURE_INVALID",
    );
  });

  test("another secret, or a forged timestamp, does not verify", () => {
    const header = signWebhook(body, secret, now);
    expect(refusal(body, header, `${secret}x`, { now: at(now) })).toBe("WEBHOOK_SIGNATURE_INVALID");
    // Moving t into the window breaks the signature: the timestamp is signed too.
    const moved = header.replace(`t=${now}`, `t=${now + 1}`);
    expect(refusal(body, moved, secret, { now: at(now) })).toBe("WEBHOOK_SIGNATURE_INVALID");
  });

  test("an old timestamp is refused as a replay; a future one beyond the tolerance too", () => {
    const header = signWebhook(body, secret, now);
    expect(refusal(body, header, secret, { now: at(now + 300) })).toBe("passed");
    expect(refusal(body, header, secret, { now: at(now + 301) })).toBe(
      "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
    );
    expect(refusal(body, header, secret, { now: at(now - 301) })).toBe(
      "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
    );
    expect(refusal(body, header, secret, { now: at(now + 20), toleranceSeconds: 10 })).toBe(
      "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
    );
    // The default tolerance is 300 s, against the real clock.
    expect(refusal(body, signWebhook(body, secret), secret)).toBe("passed");
    expect(
      refusal(body, signWebhook(body, secret, Math.floor(Date.now() / 1000) - 400), secret),
    ).toBe("WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE");
  });

  test.each([
    ["missing", undefined],
    ["empty", ""],
    ["without a timestamp", `v1=${"a".repeat(64)}`],
    ["without a signature", `t=${now}`],
    ["with a non-numeric timestamp", `t=soon,v1=${"a".repeat(64)}`],
    ["with two timestamps", `t=${now},t=${now},v1=${"a".repeat(64)}`],
    ["with a short signature only", `t=${now},v1=abc`],
    ["with a part that is not name=value", `t=${now},v1`],
  ])("a header %s is malformed", (_what, header) => {
    expect(refusal(body, header, secret, { now: at(now) })).toBe("WEBHOOK_SIGNATURE_MALFORMED");
  });

  test("rotation: any v1 of the header matching any of the secrets given passes", () => {
    const oldSecret = "whsec-old-0123456789abcdef";
    // The relay signs with both while it rotates; a receiver knows one of them.
    const both = signWebhook(body, [secret, oldSecret], now);
    expect(both.match(/v1=/g)).toHaveLength(2);
    expect(refusal(body, both, oldSecret, { now: at(now) })).toBe("passed");
    expect(refusal(body, both, secret, { now: at(now) })).toBe("passed");
    // The receiver accepts both while the relay still signs with the old one.
    const old = signWebhook(body, oldSecret, now);
    expect(refusal(body, old, [secret, oldSecret], { now: at(now) })).toBe("passed");
    expect(refusal(body, old, [secret], { now: at(now) })).toBe("WEBHOOK_SIGNATURE_INVALID");
    // Unknown schemes and junk v1 values next to a good one are ignored.
    expect(refusal(body, `${old},v2=zzz,v1=nothex`, oldSecret, { now: at(now) })).toBe("passed");
    // Node gives a repeated header as an array.
    expect(refusal(body, [`t=${now}`, old.split(",")[1]!], oldSecret, { now: at(now) })).toBe(
      "passed",
    );
  });

  test("a signed body that is not a JSON object is refused", () => {
    const text = "not json";
    expect(refusal(text, signWebhook(text, secret, now), secret, { now: at(now) })).toBe(
      "WEBHOOK_PAYLOAD_INVALID",
    );
  });

  test("misuse is a ValidationError that never repeats the secret", () => {
    expect(() => verifyWebhook(body, signWebhook(body, secret, now), "")).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
    let thrown: unknown;
    try {
      verifyWebhook(body, "t=1,v1=x", secret, { toleranceSeconds: -1, nope: 1 } as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "INVALID_OPTIONS" });
    expect(JSON.stringify(thrown) + String(thrown)).not.toContain(secret);
  });
});
