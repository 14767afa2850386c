import { createHash, randomBytes } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

/**
 * What makes a process id mean the same process to two readers: the host, the kernel's boot
 * and the pid namespace. Two containers can share a hostname but not a pid namespace; a
 * reboot reuses pids. Only an owner written under the same locality can be judged by its pid.
 */
function locality(): { token: string; known: boolean } {
  const read = (fn: () => string) => {
    try {
      return fn().trim();
    } catch {
      return "";
    }
  };
  const boot = read(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8"));
  const pidNamespace = read(() => readlinkSync("/proc/self/ns/pid"));
  const token = createHash("sha256")
    .update(`${hostname()}\n${boot}\n${pidNamespace}`)
    .digest("hex")
    .slice(0, 6);
  // Without the kernel's boot id and pid namespace (no /proc: macOS, Windows, a sandbox),
  // two machines of one hostname would share a token: then no pid is judged at all.
  return { token, known: boot !== "" && pidNamespace !== "" };
}

const here = locality();
const ownerPattern = /^(.+):(\d+):([0-9a-f]{6})\.[0-9a-f]+$/;

/**
 * A runtime's default name in leases and the journal: `host:pid:locality.random`, readable
 * by a person, and precise enough for {@link isProvablyGone} to judge it.
 */
export function defaultOwner(): string {
  return `${hostname()}:${process.pid}:${here.token}.${randomBytes(3).toString("hex")}`;
}

/**
 * True only when `owner` is a default owner of this host, boot and pid namespace whose
 * process no longer exists: its leases can be taken over at once instead of waiting for
 * them to expire. Anything else (another host, a name given by the app, a pid that is
 * alive, one this process may not signal, or a machine where the locality cannot be read)
 * is presumed alive.
 */
export function isProvablyGone(owner: string): boolean {
  const match = ownerPattern.exec(owner);
  if (!here.known || !match || match[1] !== hostname() || match[3] !== here.token) return false;
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
