import { type Command, Option } from "commander";
import { startSandbox } from "../../sandbox/index.js";
import type { CliIo } from "../io.js";
import { parseIntOption } from "../options.js";

/** `pi-payments sandbox`: a local Pi Platform API and Horizon until interrupted. */
export function sandboxCommand(program: Command, io: CliIo): void {
  program
    .command("sandbox")
    .description(
      "run a local Pi Platform API and Pi blockchain (Horizon) for development and tests",
    )
    .option(
      "-p, --port <port>",
      "port for both faces (Pi API under /v2, Horizon at /)",
      parseIntOption("port"),
      0,
    )
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--json", "print the connection details as one JSON line, then only that")
    .addOption(
      new Option("--network <name>", "network")
        .choices(["Pi Testnet", "Pi Network"])
        .default("Pi Testnet"),
    )
    .option(
      "--ledger-interval <ms>",
      "close a ledger every N ms",
      parseIntOption("ledger-interval"),
      5000,
    )
    .addOption(
      new Option(
        "--clock <clock>",
        "chain time: the wall clock, or 5 s per ledger (the default below 1 s ledgers: on the wall clock, each close must advance 1 s, so fast ledgers would run ahead of real time)",
      ).choices(["wall", "simulated"]),
    )
    .option("--users <count>", "users to register", parseIntOption("users"), 3)
    .addOption(
      new Option("--incomplete-limit <scope>", "Pi's one-incomplete-payment rule")
        .choices(["app", "user"])
        .default("app"),
    )
    .option(
      "--link-lag <ms>",
      "delay before Pi links a landed transaction to its payment",
      parseIntOption("link-lag"),
      0,
    )
    .option("--seed <n>", "seed of every random choice, to replay a run", parseIntOption("seed"))
    .action(
      async (flags: {
        port: number;
        host: string;
        json?: boolean;
        network: "Pi Testnet" | "Pi Network";
        ledgerInterval: number;
        clock?: "wall" | "simulated";
        users: number;
        incompleteLimit: "app" | "user";
        linkLag: number;
        seed?: number;
      }) => {
        const sandbox = await startSandbox({
          port: flags.port,
          host: flags.host,
          network: flags.network,
          ledgerIntervalMs: flags.ledgerInterval,
          ...(flags.clock ? { clock: flags.clock } : {}),
          users: flags.users,
          incompleteLimit: flags.incompleteLimit,
          linkLagMs: flags.linkLag,
          ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        });
        const info = sandbox.info();
        // Listening before the lines a script waits for: Ctrl-C right after them closes cleanly.
        const interrupted = io.untilInterrupted();
        if (flags.json) {
          io.out(JSON.stringify(info));
        } else {
          io.out(`Pi sandbox on ${info.apiUrl} (${info.network}, seed ${sandbox.seed})`);
          // The base URL exactly as PI_API_URL takes it (paths under /v2 are the adapter's).
          io.out(`  Pi API:   ${info.apiUrl}        API key: ${info.apiKey}`);
          io.out(`  Horizon:  ${info.horizonUrl}        ledgers every ${flags.ledgerInterval} ms`);
          io.out(`  Wallet:   ${info.walletAddress}`);
          io.out(`  Seed:     ${info.walletSeed}   (a throwaway sandbox wallet)`);
          for (const user of info.users)
            io.out(`  User:     ${user.uid}  ${user.address ?? "(no wallet)"}`);
          io.out("Admin endpoints under /__sandbox (faults, ledgers, users). Ctrl-C to stop.");
          // The settings the other commands read, ready to paste into a second terminal.
          io.out("Pay from another terminal after pasting:");
          io.out(
            `  export PI_API_KEY=${info.apiKey} PI_WALLET_SEED=${info.walletSeed} PI_NETWORK="${info.network}" PI_API_URL=${info.apiUrl} PI_HORIZON_URL=${info.horizonUrl}`,
          );
        }
        await interrupted;
        await sandbox.close();
      },
    );
}
