import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    // Most tests wait on loopback HTTP and ledger timers, not the CPU: let them overlap.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Property tests print their seed; keep the output of a failing run readable.
    printConsoleTrace: false,
  },
});
