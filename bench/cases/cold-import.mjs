// 8. Cold import: a fresh node process imports an entry point of the build; the time the
// import takes inside it (the process's own start-up is the same for every entry), and the
// modules it loads.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median } from "../stats.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));

/** The entries compared: everything an app imports first, and PiNetwork alone. */
export const ENTRIES = {
  'import("pi-payments")': "pi-payments",
  'import("pi-payments/pi-network")': "pi-payments/pi-network",
};

/** One fresh process: ms to import `specifier`, and how many module files it loaded. */
function once(specifier) {
  const script = `
    const started = performance.now();
    await import(${JSON.stringify(specifier)});
    const ms = performance.now() - started;
    const { createRequire } = await import("node:module");
    const cjs = Object.keys(createRequire(import.meta.url).cache).length;
    process.stdout.write(JSON.stringify({ ms, cjs }));
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: root,
    encoding: "utf8",
  });
  return JSON.parse(out);
}

/** 8. The median of `runs` cold imports of each entry. */
export async function coldImport(runs) {
  const results = {};
  for (const [name, specifier] of Object.entries(ENTRIES)) {
    const samples = Array.from({ length: runs }, () => once(specifier));
    results[name] = {
      ms: median(samples.map((s) => s.ms)),
      runs: samples.map((s) => s.ms),
      commonJsModules: median(samples.map((s) => s.cjs)),
    };
  }
  return results;
}
