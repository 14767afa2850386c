import { spawnSync } from "node:child_process";
import { hostname } from "node:os";
import { describe, expect, test, vi } from "vitest";
import { defaultOwner, isProvablyGone } from "../../src/runtime/owner.js";

const exitedPid = () => spawnSync(process.execPath, ["-e", ""]).pid!;
const localityOf = (owner: string) => owner.split(":")[2]!.split(".")[0]!;

describe("a runner judged gone by its pid", () => {
  test("a default owner of this host whose pid is gone is gone; a live one, another host's, or a chosen name is not", () => {
    const mine = defaultOwner();
    expect(mine).toMatch(new RegExp(`^${hostname()}:${process.pid}:[0-9a-f]{6}\\.[0-9a-f]{6}$`));
    const gone = `${hostname()}:${exitedPid()}:${localityOf(mine)}.abcdef`;
    expect(isProvablyGone(gone)).toBe(true);
    expect(isProvablyGone(mine)).toBe(false);
    expect(isProvablyGone(`${hostname()}:1:${localityOf(mine)}.abcdef`)).toBe(false);
    expect(isProvablyGone(`another-host:${exitedPid()}:${localityOf(mine)}.abcdef`)).toBe(false);
    expect(isProvablyGone(`${hostname()}:${exitedPid()}:000000.abcdef`)).toBe(false);
    expect(isProvablyGone("worker-1")).toBe(false);
  });

  test("where the kernel's boot id and pid namespace cannot be read, no pid is judged at all (review finding L)", async () => {
    vi.resetModules();
    vi.doMock("node:fs", async (original) => ({
      ...(await original<typeof import("node:fs")>()),
      readFileSync: () => {
        throw new Error("no /proc here");
      },
      readlinkSync: () => {
        throw new Error("no /proc here");
      },
    }));
    try {
      const owner = await import("../../src/runtime/owner.js");
      const gone = `${hostname()}:${exitedPid()}:${localityOf(owner.defaultOwner())}.abcdef`;
      expect(owner.isProvablyGone(gone)).toBe(false);
    } finally {
      vi.doUnmock("node:fs");
      vi.resetModules();
    }
  });
});
