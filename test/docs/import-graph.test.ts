import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const src = fileURLToPath(new URL("../../src/", import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : [],
  );
}

/** The modules a file loads when it runs: relative imports and re-exports, type-only ones left out. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+"(\.[^"]+)"/gms)) {
    if (match[1]) continue;
    found.push(resolve(dirname(file), match[2]!.replace(/\.js$/, ".ts")));
  }
  return found;
}

describe("the import graph of src/", () => {
  test("has no cycle between modules, type-only imports aside", () => {
    const graph = new Map(sources(src).map((file) => [file, runtimeImports(file)]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "open") {
        cycles.push(
          [...path.slice(path.indexOf(file)), file].map((f) => relative(src, f)).join(" → "),
        );
        return;
      }
      state.set(file, "open");
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, "done");
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
    expect(graph.size).toBeGreaterThan(100);
  });

  test("no file in src/ is over 400 lines", () => {
    const long = sources(src)
      .map(
        (file) => [relative(src, file), readFileSync(file, "utf8").split("\n").length - 1] as const,
      )
      .filter(([, lines]) => lines > 400);
    expect(long).toEqual([]);
  });
});
