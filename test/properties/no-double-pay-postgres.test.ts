import { test } from "vitest";
import { realPostgresUrl } from "../helpers/postgres.js";
import { runProperty } from "./run-property.js";

test(`on PostgreSQL (${realPostgresUrl ? "the real server" : "PGlite"}): pay, cancel, crash at any await point, faults, ledgers — never paid twice, everything settles`, async () => {
  await runProperty("postgres", 300);
}, 900_000);
