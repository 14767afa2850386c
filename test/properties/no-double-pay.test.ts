import { test } from "vitest";
import { runProperty } from "./run-property.js";

test("on the memory store: pay, cancel, crash at any await point, faults, ledgers — never paid twice, everything settles", async () => {
  await runProperty("memory", 400);
}, 900_000);
