// Generates the parts of the docs that must match the code: the README's errors table
// (from `errorCatalog`) and docs/machine.md (a Mermaid diagram of `payoutMachine`).
// `npm run docs` writes them; test/docs/generated.test.ts fails when they are stale.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { errorCatalog, payoutMachine } from "pi-payments";
import { toDirectedGraph } from "xstate/graph";

const root = fileURLToPath(new URL("../", import.meta.url));
export const readmePath = `${root}README.md`;
export const machineDocPath = `${root}docs/machine.md`;

const cell = (text) => String(text).replaceAll("|", "\\|").replaceAll("\n", " ");

/** The README's errors table: every code, its origin, what it means and what to do. */
export function errorsTable() {
  const rows = errorCatalog.map(
    (e) =>
      `| \`${cell(e.code)}\` | ${cell(e.source)} | ${cell(e.meaning)} | ${cell(e.action)} | ${e.retryable ? "yes" : "no"} |`,
  );
  return [
    "| code | where | what happened | what to do | retryable |",
    "|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

/** The README with its errors table regenerated between the markers. */
export function readmeWithErrors(readme) {
  const start = "<!-- errors:start -->";
  const end = "<!-- errors:end -->";
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < 0)
    throw new Error("README.md lacks the <!-- errors:start --> and <!-- errors:end --> markers");
  return `${readme.slice(0, from + start.length)}\n${errorsTable()}\n${readme.slice(to)}`;
}

const short = (label) =>
  label
    .replace(/^xstate\.done\.actor\.(.+)$/, "$1 done")
    .replace(/^xstate\.error\.actor\.(.+)$/, "$1 error")
    .replace(/^xstate\.after.*$/, "after");
const id = (stateId) => stateId.replace(/^payout\./, "").replaceAll(".", "_");

/** A Mermaid state diagram of the payout machine, drawn from its definition. */
export function machineDiagram() {
  const lines = ["stateDiagram-v2", "  direction TB"];
  const edges = [];
  const walk = (node, depth) => {
    const pad = "  ".repeat(depth);
    for (const child of node.children) {
      const key = child.stateNode.key;
      if (child.children.length > 0) {
        lines.push(`${pad}state "${key}" as ${id(child.id)} {`);
        const initial = child.stateNode.initial?.target?.[0];
        if (initial) lines.push(`${pad}  [*] --> ${id(initial.id)}`);
        walk(child, depth + 1);
        lines.push(`${pad}}`);
      } else {
        lines.push(`${pad}state "${key}" as ${id(child.id)}`);
        if (child.stateNode.type === "final") edges.push(`  ${id(child.id)} --> [*]`);
      }
      for (const edge of child.edges) {
        const raw = edge.transition.guard;
        const guard = typeof raw === "string" ? raw : raw?.type;
        const label = `${short(edge.label.text)}${guard ? ` [${guard}]` : ""}`;
        edges.push(`  ${id(edge.source.id)} --> ${id(edge.target.id)} : ${label}`);
      }
    }
  };
  const graph = toDirectedGraph(payoutMachine);
  lines.push("  [*] --> created");
  walk(graph, 1);
  // Eventless transitions are not in the directed graph.
  edges.push("  stored_signing --> stored_cancelling : always [cancelRequested]");
  return [...lines, ...edges].join("\n");
}

/** docs/machine.md, whole. */
export function machineDoc() {
  return `# The payout machine

Generated from \`payoutMachine\` by \`npm run docs\` (\`scripts/generate-docs.mjs\`); a test fails
when this page is stale. The main states are the lifecycle's contract: \`created\`, \`stored\`,
\`submitted\`, \`txStored\`, \`completed\`, \`cancelled\`, \`failed\`. The sub-states are work in
flight, retries and waits. Every effect is an invoke (its name is the transition's label,
\`done\` or \`error\`); guards are in brackets. See [crash recovery](crash-recovery.md) for why
each arrow is safe.

\`\`\`mermaid
${machineDiagram()}
\`\`\`

Two commands reach a payout from outside: \`CANCEL\` (accepted wherever a cancel can still be
made safely; in \`submitted\` it waits for the envelope's fate) and \`RETRY\` (in \`failed\`,
back to where it stopped).
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  const readme = readFileSync(readmePath, "utf8");
  const wanted = [
    [readmePath, readmeWithErrors(readme), readme],
    [
      machineDocPath,
      machineDoc(),
      (() => {
        try {
          return readFileSync(machineDocPath, "utf8");
        } catch {
          return "";
        }
      })(),
    ],
  ];
  let stale = 0;
  for (const [path, content, current] of wanted) {
    if (content === current) continue;
    stale += 1;
    if (check) console.error(`${path} is stale: run npm run docs`);
    else writeFileSync(path, content);
  }
  if (check && stale > 0) process.exit(1);
}
