import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const readme = readFileSync(`${root}README.md`, "utf8");

/** The code block that follows a `<!-- readme-script: name -->` marker. */
function scriptNamed(name: string): string {
  const marker = `<!-- readme-script: ${name} -->`;
  const at = readme.indexOf(marker);
  expect(at, `README has no ${marker}`).toBeGreaterThanOrEqual(0);
  const block = /```js\n([\s\S]*?)```/.exec(readme.slice(at));
  return block![1]!;
}

describe("the README", () => {
  test("holds the two commands: set up and run the main job, and run the tests", () => {
    expect(readme).toMatch(/```sh\nnpm install && npx pi-payments \w+/);
    expect(readme).toContain("```sh\nnpm test\n```");
  });

  test("its PiNetwork script is at most 10 lines and pays a sandbox user", () => {
    const script = scriptNamed("pi-network");
    expect(
      script
        .trim()
        .split("\n")
        .filter((line) => line.trim() !== "").length,
    ).toBeLessThanOrEqual(10);
    // Run from the package root so that `pi-payments` resolves to this package's own exports.
    const file = `${root}.readme-script-${process.pid}.mjs`;
    writeFileSync(file, script);
    try {
      const run = spawnSync(process.execPath, [file], {
        cwd: root,
        encoding: "utf8",
        timeout: 30_000,
      });
      expect(run.stderr).toBe("");
      expect(run.stdout).toMatch(/^paid 3\.14 Pi in [0-9a-f]{64}\n$/);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
