import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

/**
 * What makes a process id mean the same process to two readers: the host, the kernel's boot
 * and the pid namespace. Two containers can share a hostname but not a pid namespace; a
 * reboot reuses pids. Only an owner written under the same locality can be judged by its pid.
 */
function locality(): string {
  const read = (fn: () => string) => {
    try {
      return fn().trim();
    } catch {
      return "";
    }
  };
  const boot = read(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8"));
  const pidNamespace = read(() => readlinkSync("/proc/self/ns/pid"));
  return createHash("sha256")
    .update(`${hostname()}\n${boot}\n${pidNamespace}`)
    .digest("hex")
    .slice(0, 6);
}

const here = locality();
const ownerPattern = /^(.+):(\d+):([0-9a-f]{6})\.[0-9a-f]+$/;

/**
 * A runtime's default name in leases and the journal: `host:pid:locality.random`, readable
 * by a person, and precise enough for {@link isProvablyGone} to judge it.
 */
export function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${here}.${randomBytes(3).toString("hex")}`;
}

/**
 * True only when `owner` is a default owner of this host, boot and pid namespace whose
 * process no longer exists: its leases can be taken over at once instead of waiting for
 * them to expire. Anything else (another host, a name given by the app, a pid that is
 * alive, or one this process may not signal) is presumed alive.
 */
export function isProvablyGone(owner: string): boolean {
  const match = ownerPattern.exec(owner);
  if (!match || match[1] !== hostname() || match[3] !== here) return false;
  const pid = Number(match[2]);
  if (pid === process.pid || !Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
