/** Where a command writes; tests and `main` pass the process's streams. */
export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** One `tcpchat` subcommand. `run` resolves to the process exit code. */
export interface Command {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The full `--help` text, with examples. */
  help: string;
  run(argv: string[], io: CommandIo): Promise<number>;
}
