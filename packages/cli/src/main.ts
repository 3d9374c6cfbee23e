import { SERVER_SOFTWARE } from "@tcpchat/core";
import packageJson from "../package.json" with { type: "json" };
import { CommandError } from "./command-error.js";
import { accountCommand } from "./commands/account.js";
import type { Command } from "./commands/command.js";
import { connectCommand } from "./commands/connect.js";
import { doctorCommand } from "./commands/doctor.js";
import { policyCommand } from "./commands/policy.js";
import { serveCommand } from "./commands/serve.js";
import { EXIT_CODE } from "./exit-codes.js";
import { UsageError } from "./usage-error.js";

const COMMANDS: readonly Command[] = [
  serveCommand,
  connectCommand,
  doctorCommand,
  policyCommand,
  accountCommand,
];

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const list = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join("\n");
  return `Usage: tcpchat [COMMAND] [OPTIONS]

Chat over plain TCP. With no command, runs \`serve\` on port 3000.

Commands:
${list}

Options:
  -h, --help     show help (also: tcpchat COMMAND --help)
  -v, --version  show the version

Examples:
  tcpchat                          serve on port 3000, every interface
  tcpchat serve --port 4000 --host 127.0.0.1
  tcpchat connect 192.168.1.20     join from another machine
  echo "hello" | tcpchat connect   send one line from a script
  tcpchat doctor 192.168.1.20:3000
  tcpchat policy check policy.toml 10.0.0.7

Exit codes: 0 ok, 1 failure, 2 bad usage; serve, connect and doctor: see their --help.`;
}

/** Runs `tcpchat` with argv (without node and the script); resolves to the exit code. */
export async function main(rawArgv: readonly string[]): Promise<number> {
  // pnpm 10 passes a literal "--" through to scripts.
  const argv = rawArgv[0] === "--" ? rawArgv.slice(1) : [...rawArgv];
  const io = { stdout: process.stdout, stderr: process.stderr };
  const first = argv[0];
  if (first === "--version" || first === "-v" || first === "version") {
    io.stdout.write(`tcpchat ${packageJson.version} (core: ${SERVER_SOFTWARE})\n`);
    return EXIT_CODE.ok;
  }
  if (first === "--help" || first === "-h" || first === "help") {
    const named = COMMANDS.find((c) => c.name === argv[1]);
    io.stdout.write(`${named ? named.help : topLevelHelp()}\n`);
    return EXIT_CODE.ok;
  }
  const named = COMMANDS.find((c) => c.name === first);
  // No command, or flags only: serve (`tcpchat --port 4000` is `tcpchat serve --port 4000`).
  const command =
    named ?? (first === undefined || first.startsWith("-") ? serveCommand : undefined);
  try {
    if (!command) {
      throw new UsageError(
        `unknown command "${first}". Commands: ${COMMANDS.map((c) => c.name).join(", ")}. See: tcpchat --help`,
      );
    }
    const args = named ? argv.slice(1) : argv;
    // Every command's --help is its `help` text: answered here, before its flags are parsed.
    const beforeEnd = args.includes("--") ? args.slice(0, args.indexOf("--")) : args;
    if (beforeEnd.includes("--help") || beforeEnd.includes("-h")) {
      io.stdout.write(`${command.help}\n`);
      return EXIT_CODE.ok;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`tcpchat: ${error.message}\n`);
      return EXIT_CODE.usage;
    }
    if (error instanceof CommandError) {
      io.stderr.write(`tcpchat: ${error.message}\n  hint: ${error.hint}\n`);
      return error.exitCode;
    }
    io.stderr.write(
      `tcpchat: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT_CODE.failure;
  }
}

const code = await main(process.argv.slice(2));
// Commands that keep running (serve, connect) resolve only when they are done, so exiting here
// is what ends the process: without it, a stray timer or a half-closed stdin would keep it up.
process.exitCode = code;
process.stdout.write("", () => process.exit(code));
