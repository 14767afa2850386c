// Case 3 with each side in a process of its own, run in turns as in libraryCpu. In one
// process the sides share a heap: the garbage of one side's telemetry is collected partly
// in the chunks of the others, and the JIT compiles code shaped by all four, so a side
// without telemetry pays some of its neighbours' cost and the ratios come out nearer 1.
// A host runs one configuration per process: these figures are the ones to judge by.
import { fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { inTurns } from "./library-cpu.mjs";
import { sqliteSides } from "./library-cpu-sides.mjs";

const sideScript = fileURLToPath(new URL("./library-cpu-side.mjs", import.meta.url));

/** Starts a side's process and resolves once it is warm. */
async function startSide(name, warmUp) {
  const child = fork(sideScript, [name, String(warmUp)], { stdio: "inherit" });
  const [first] = await once(child, "message");
  if (!first.ready) throw new Error(`side ${name} did not start`);
  return child;
}

/** Asks a side's process for one chunk and waits for its figures. */
async function askChunk(child, count) {
  child.send({ chunk: count });
  const [answer] = await once(child, "message");
  return answer.figures;
}

export async function libraryCpuInProcesses({ rounds, chunkPayouts, warmUp }) {
  const names = Object.keys(sqliteSides());
  const children = {};
  // One at a time: a side warms up alone, as in one process.
  for (const name of names) children[name] = await startSide(name, warmUp);
  try {
    return await inTurns(names, { rounds, chunkPayouts }, (name) =>
      askChunk(children[name], chunkPayouts),
    );
  } finally {
    for (const child of Object.values(children)) {
      child.send({ close: true });
      await once(child, "exit");
    }
  }
}
