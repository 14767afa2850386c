import { test } from "vitest";
import { runProperty } from "./run-property.js";

test("on SQLite: pay, cancel, crash at any await point, faults, ledgers — never paid twice, everything settles", async () => {
  await runProperty("sqlite", 300);
}, 900_000);
