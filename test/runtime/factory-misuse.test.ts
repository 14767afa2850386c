import { describe, expect, test } from "vitest";
import { ValidationError } from "../../src/domain/errors.js";
import {
  createPayouts,
  createPiChain,
  createPiPlatform,
  createWorker,
  PiNetwork,
} from "../../src/index.js";
import { startSandbox } from "../../src/sandbox/index.js";
import { createMemoryStore } from "../../src/storage/memory-store.js";
import { createPostgresStore } from "../../src/storage/postgres/postgres-store.js";
import { createSqliteStore } from "../../src/storage/sqlite-store.js";

// Every factory a user calls answers misuse the same way: a ValidationError with code
// INVALID_OPTIONS whose message and issues name the option, before anything is opened or
// sent. Never a bare TypeError from deep inside, never silence.
const misuse: [string, () => unknown, string][] = [
  ["createPayouts()", () => createPayouts(undefined as never), "is required"],
  [
    "createPayouts with a typo",
    () => createPayouts({ apiKey: "k", walletSeed: "S", network: "Pi Testnet", stroe: 1 } as never),
    "stroe",
  ],
  ["createPayouts with a number key", () => createPayouts({ apiKey: 1 } as never), "apiKey"],
  ["createMemoryStore(5)", () => createMemoryStore(5 as never), "must be an object"],
  ["createMemoryStore with a typo", () => createMemoryStore({ nwo: Date.now } as never), "nwo"],
  [
    "createSqliteStore with filename",
    () => createSqliteStore({ filename: "x.db" } as never),
    "filename",
  ],
  [
    "createSqliteStore with path and database",
    () => createSqliteStore({ path: "x.db", database: { prepare() {} } } as never),
    "database",
  ],
  [
    "createSqliteStore with a bad durability",
    () => createSqliteStore({ durability: "always" } as never),
    "durability",
  ],
  [
    "createSqliteStore with a bad database",
    () => createSqliteStore({ database: "x.db" } as never),
    "database",
  ],
  ["createPostgresStore()", () => createPostgresStore(undefined as never), "is required"],
  ["createPostgresStore({})", () => createPostgresStore({}), "connectionString"],
  ["createPostgresStore with a bad pool", () => createPostgresStore({ pool: {} as never }), "pool"],
  [
    "createPostgresStore with a long schema",
    () => createPostgresStore({ connectionString: "postgres://x", schema: "s".repeat(64) }),
    "schema",
  ],
  ["startSandbox(5)", () => startSandbox(5 as never), "must be an object"],
  [
    "startSandbox with a typo",
    () => startSandbox({ ledgerInterval: 5 } as never),
    "ledgerInterval",
  ],
  [
    "startSandbox with a bad interval",
    () => startSandbox({ ledgerIntervalMs: "x" } as never),
    "ledgerIntervalMs",
  ],
  ["createPiChain()", () => createPiChain(undefined as never), "is required"],
  ["createPiChain({})", () => createPiChain({} as never), "walletSeed"],
  ["createPiPlatform({})", () => createPiPlatform({} as never), "apiKey"],
  [
    "createPiPlatform with a bad URL",
    () => createPiPlatform({ apiKey: "k", baseUrl: "ftp://x" }),
    "baseUrl",
  ],
  ["new PiNetwork({})", () => new PiNetwork({} as never), "apiKey"],
  ["createWorker()", () => createWorker(undefined as never), "payouts"],
];

describe("misusing a factory", () => {
  test.each(misuse)("%s is a ValidationError naming the option", async (_name, call, named) => {
    const error = await (async () => call())().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe("INVALID_OPTIONS");
    expect((error as ValidationError).message).toContain(named);
  });
});
