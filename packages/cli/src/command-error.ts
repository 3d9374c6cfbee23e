import type { ExitCode } from "./exit-codes.js";

/**
 * A failure a command explains itself, with its own exit code: printed on stderr as
 * `tcpchat: MESSAGE` and `  hint: HINT` (what to do next), then the command exits with
 * `exitCode`. Failures of the command line itself are {@link UsageError}s (exit 2).
 */
export class CommandError extends Error {
  override name = "CommandError";
  /** What to do next, one or two sentences. */
  readonly hint: string;
  /** The process's exit code (one of EXIT_CODE's values). */
  readonly exitCode: ExitCode;

  constructor(message: string, options: { hint: string; exitCode: ExitCode }) {
    super(message);
    this.hint = options.hint;
    this.exitCode = options.exitCode;
  }
}
