import { clock } from "../format.js";
import { createLineUi, type LineUi, type LineUiOptions } from "../terminal/line-ui.js";

/** The terminal side of a connect session: input lines in, chat and status lines out. */
export interface SessionIo {
  readonly interactive: boolean;
  /** A line from the peer (chat traffic): stdout, with a timestamp when enabled. */
  show(text: string, ts?: number): void;
  /** A status line (connected, errors, fallback notice): above the prompt, or stderr in a pipe. */
  status(text: string): void;
  setPrompt(prompt: string): void;
  /**
   * Backpressure: when stdout cannot take more (a pipe nobody reads fast enough), pauses
   * `source` until stdout drains. Call it after showing what a chunk of input produced, so that
   * memory stays flat however fast the peer sends.
   */
  holdWhileFull(source: { pause(): void; resume(): void }): void;
  close(): void;
}

/** Options of {@link createSessionIo}. */
export interface SessionIoOptions {
  prompt: string;
  /** Timestamps on chat lines: default on for a terminal, off for a pipe. */
  timestamps: boolean | undefined;
  onLine(line: string): void;
  onEnd(): void;
  onInterrupt(): void;
  /** See {@link LineUiOptions.eraseSubmitted}. */
  eraseSubmitted?(line: string): boolean;
}

/** Creates the session I/O over the process's stdin, stdout and stderr. */
export function createSessionIo(options: SessionIoOptions): SessionIo {
  const ui: LineUi = createLineUi({
    input: process.stdin,
    output: process.stdout,
    prompt: options.prompt,
    onLine: options.onLine,
    onEnd: options.onEnd,
    onInterrupt: options.onInterrupt,
    ...(options.eraseSubmitted ? { eraseSubmitted: options.eraseSubmitted } : {}),
  });
  const timestamps = options.timestamps ?? ui.interactive;
  let held = false;
  return {
    interactive: ui.interactive,
    show: (text, ts) => ui.print(timestamps ? `${clock(ts)} ${text}` : text),
    status: (text) => (ui.interactive ? ui.print(text) : process.stderr.write(`${text}\n`)),
    setPrompt: (prompt) => ui.setPrompt(prompt),
    holdWhileFull: (source) => {
      if (held || !process.stdout.writableNeedDrain) return;
      held = true;
      source.pause();
      process.stdout.once("drain", () => {
        held = false;
        source.resume();
      });
    },
    close: () => ui.close(),
  };
}
