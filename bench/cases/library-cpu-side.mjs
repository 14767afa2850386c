// One side of case 3 in a process of its own (see library-cpu-processes.mjs): it opens the
// side named by its argument, warms it up, then pays a chunk each time its parent asks and
// answers with the chunk's figures (this process's CPU only).
import { chunk, closeSide, openSide } from "./library-cpu.mjs";
import { sqliteSides } from "./library-cpu-sides.mjs";

const [name, warmUp] = process.argv.slice(2);
const side = await openSide(sqliteSides()[name]);
await chunk(side, Number(warmUp));
process.on("message", async (message) => {
  if (message.chunk) {
    process.send({ figures: await chunk(side, message.chunk) });
    return;
  }
  await closeSide(side);
  process.send({ closed: true }, () => process.exit(0));
});
process.send({ ready: true });
