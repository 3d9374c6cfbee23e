import { basename, isAbsolute, relative } from "node:path";

/** The installed command's name (package.json `bin`). */
const INSTALLED_NAME = "tcpchat";

/**
 * The command a person types to run this program again, so that every command a hint or the
 * banner suggests works as typed: `pnpm --filter cli start` when the workspace's start script
 * launched it (it says so in `TCPCHAT_RUN_AS`), `tcpchat` when it runs as the installed
 * command, and `node PATH` (relative to the working directory) otherwise. A clone has no
 * `tcpchat` on PATH, so suggesting that there would fail.
 */
export function runCommand(
  env: NodeJS.ProcessEnv = process.env,
  script: string | undefined = process.argv[1],
  cwd: string = process.cwd(),
): string {
  const runAs = env.TCPCHAT_RUN_AS?.trim();
  if (runAs) return runAs;
  if (script === undefined || basename(script) === INSTALLED_NAME) return INSTALLED_NAME;
  const path = relative(cwd, script);
  return `node ${isAbsolute(path) || path.startsWith("..") ? script : path}`;
}

/**
 * The command that starts the terminal UI, next to {@link runCommand}'s: from a clone it is the
 * tui package's start script, after an install the `tcpchat-tui` command.
 */
export function tuiRunCommand(cliCommand: string = runCommand()): string {
  return cliCommand === INSTALLED_NAME ? "tcpchat-tui" : "pnpm --filter tui start";
}
