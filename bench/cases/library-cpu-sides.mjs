// The sides of case 3 on SQLite: one definition for both ways of running them (one process
// for all, library-cpu.mjs; a process each, library-cpu-processes.mjs).
import { sqliteStore } from "../stores.mjs";

/**
 * The sides by name; the first is the one the others are compared with. `telemetry`: the
 * side gets a recording SDK of its own when it opens (openSide).
 */
export function sqliteSides() {
  const sqlite = async () => sqliteStore();
  return {
    "sqlite, no consumer": { makeStore: sqlite },
    "sqlite, one consumer": { makeStore: sqlite, consumer: true },
    "sqlite, with telemetry": { makeStore: sqlite, telemetry: true },
    "sqlite, consumer and telemetry": { makeStore: sqlite, telemetry: true, consumer: true },
  };
}
