import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  exports: Record<string, { types: string; import: string } | string>;
};

describe("the package's exports", () => {
  test.each(Object.keys(pkg.exports).filter((k) => k !== "./package.json"))(
    "%s resolves in the build, types first",
    async (subpath) => {
      const entry = pkg.exports[subpath] as { types: string; import: string };
      expect(Object.keys(entry)[0]).toBe("types");
      const specifier = subpath === "." ? "pi-payments" : `pi-payments/${subpath.slice(2)}`;
      const module = await import(specifier);
      expect(Object.keys(module).length).toBeGreaterThan(0);
    },
  );

  test("each store has its own subpath", async () => {
    expect(typeof (await import("pi-payments/memory")).createMemoryStore).toBe("function");
    expect(typeof (await import("pi-payments/sqlite")).createSqliteStore).toBe("function");
    expect(typeof (await import("pi-payments/postgres")).createPostgresStore).toBe("function");
    expect(typeof (await import("pi-payments/sandbox")).startSandbox).toBe("function");
  });

  test("the webhook relay and the receiver's verifyWebhook are on the front door", async () => {
    const front = await import("pi-payments");
    for (const name of [
      "createWebhookRelay",
      "verifyWebhook",
      "signWebhook",
      "isWebhookVerificationError",
      "WebhookVerificationError",
    ]) {
      expect(typeof (front as Record<string, unknown>)[name], name).toBe("function");
    }
    expect(front.WEBHOOK_SIGNATURE_HEADER).toBe("Pi-Payments-Signature");
  });

  test("PiNetwork has its own subpath, the same class as the main entry's", async () => {
    const alone = await import("pi-payments/pi-network");
    expect(alone.PiNetwork).toBe((await import("pi-payments")).PiNetwork);
  });
});
