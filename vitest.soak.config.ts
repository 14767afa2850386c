import { defineConfig } from "vitest/config";

/** `npm run soak`: the long property run, on its own (see test/properties/soak.ts). */
export default defineConfig({
  test: {
    include: ["test/properties/soak.ts"],
    pool: "forks",
    testTimeout: 0,
    hookTimeout: 60_000,
    printConsoleTrace: false,
  },
});
