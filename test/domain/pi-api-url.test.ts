import { describe, expect, test } from "vitest";
import { DEFAULT_PI_API_URL, normalizePiApiUrl } from "../../src/domain/index.js";

describe("Pi API base URLs", () => {
  test.each([
    ["https://api.minepi.com", "https://api.minepi.com"],
    ["https://api.minepi.com/", "https://api.minepi.com"],
    ["https://api.minepi.com/v2", "https://api.minepi.com"],
    ["https://api.minepi.com/v2/", "https://api.minepi.com"],
    ["https://api.minepi.com/V2//", "https://api.minepi.com"],
    ["http://127.0.0.1:4000/v2", "http://127.0.0.1:4000"],
    ["https://proxy.example/pi/v2", "https://proxy.example/pi"],
    ["https://proxy.example/pi/", "https://proxy.example/pi"],
    ["https://proxy.example/v2pi", "https://proxy.example/v2pi"],
    ["https://proxy.example/v3", "https://proxy.example/v3"],
  ])("%s is the base URL %s", (given, base) => {
    expect(normalizePiApiUrl(given)).toBe(base);
  });

  test("the default is Pi's host without /v2", () => {
    expect(normalizePiApiUrl(DEFAULT_PI_API_URL)).toBe(DEFAULT_PI_API_URL);
  });
});
