import { configDefaults, defineConfig } from "vitest/config";

/**
 * The fleet test (four worker processes, one SIGKILLed, 500 payouts through Pi's one slot)
 * runs after everything else, on a machine of its own: alone it takes 34–40 s, beside the
 * CPU-heavy files (property runs, CLI processes) 80–241 s on a 2-CPU machine, and a CI run
 * once missed its 360 s deadline that way (216 of 500). Its deadline bounds liveness; what
 * it proves (no payout twice, none lost, through a kill and lease takeovers) holds either way.
 */
const FLEET = "test/runtime/fleet.test.ts";

export default defineConfig({
  test: {
    pool: "forks",
    // Most tests wait on loopback HTTP and ledger timers, not the CPU: let them overlap.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Property tests print their seed; keep the output of a failing run readable.
    printConsoleTrace: false,
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, FLEET],
        },
      },
      {
        extends: true,
        test: { name: "fleet", include: [FLEET], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
