#!/usr/bin/env node
// The command line lives in dist/ (built by `npm install` through the `prepare` script).
import("../dist/cli/main.js").then(
  (cli) => cli.main(process.argv),
  (error) => {
    if (error?.code === "ERR_MODULE_NOT_FOUND") {
      console.error("pi-payments: dist/ is missing; run `npm run build` (or `npm install`) first.");
      process.exit(1);
    }
    throw error;
  },
);
