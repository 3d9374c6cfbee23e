import { createInterface, type Interface } from "node:readline";

/** Options of {@link createLineUi}. */
export interface LineUiOptions {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  prompt: string;
  /** Each line typed (or read from a pipe), without its ending. */
  onLine(line: string): void;
  /** Input ended (EOF on a pipe, Ctrl+D on a terminal). */
  onEnd(): void;
  /** Ctrl+C on a terminal (readline takes the key, so the signal never comes). */
  onInterrupt?(): void;
  /** Lines kept for the up/down arrows. */
  historySize?: number;
  /**
   * Whether to erase a submitted line from the screen (a terminal only): a chat message comes
   * back from the server with a timestamp and the nick, so the typed copy would be a duplicate.
   */
  eraseSubmitted?(line: string): boolean;
}

/** A prompt that incoming text flows above: what `connect` and the serve console use. */
export interface LineUi {
  /** True when stdin and stdout are terminals (prompt, history, line editing). */
  readonly interactive: boolean;
  /** Prints a line (or several) above the prompt, keeping the partial input as it was. */
  print(text: string): void;
  setPrompt(prompt: string): void;
  /** Stops reading input; leaves the output stream open. */
  close(): void;
}

/**
 * Creates the line UI. On a terminal, printing clears the prompt row (and the rows a long
 * input wrapped onto), writes the text, and redraws prompt and partial input with the cursor
 * where it was; readline measures East Asian wide characters, so Hangul input keeps its place.
 * Without a terminal it reads lines and writes text as is.
 */
export function createLineUi(options: LineUiOptions): LineUi {
  const interactive = Boolean(options.input.isTTY && options.output.isTTY);
  const rl: Interface = createInterface({
    input: options.input,
    output: interactive ? options.output : undefined,
    terminal: interactive,
    historySize: options.historySize ?? 500,
    prompt: options.prompt,
  });
  let closed = false;
  // Rows the input occupied when Enter was pressed, measured before readline handles the key:
  // with the cursor moved to the end of the input (as readline does first anyway), its row is
  // the input's last.
  let submittedRows: number | undefined;
  if (interactive) {
    options.input.prependListener(
      "keypress",
      (_text: string, key: { name?: string } | undefined) => {
        if (key?.name !== "return" && key?.name !== "enter") return;
        if (rl.cursor !== rl.line.length) rl.write(null, { name: "end" });
        submittedRows = rl.getCursorPos().rows + 1;
      },
    );
  }
  rl.on("line", (line) => {
    if (interactive && submittedRows !== undefined && options.eraseSubmitted?.(line)) {
      options.output.write(`\x1b[${submittedRows}A\r\x1b[J`);
    }
    submittedRows = undefined;
    options.onLine(line);
    if (interactive && !closed) rl.prompt();
  });
  rl.on("close", () => {
    if (!closed) {
      closed = true;
      options.onEnd();
    }
  });
  if (interactive) {
    rl.on("SIGINT", () => (options.onInterrupt ? options.onInterrupt() : rl.close()));
    rl.prompt();
  }

  const print = (text: string): void => {
    if (!interactive || closed) {
      options.output.write(`${text}\n`);
      return;
    }
    const out = options.output;
    const rows = rl.getCursorPos().rows;
    // Go to the first row of the prompt, erase it and everything the input wrapped onto.
    out.write(rows > 0 ? `\x1b[${rows}A\r\x1b[J` : "\r\x1b[J");
    out.write(`${text}\n`);
    // readline's redraw first moves up by the rows it thinks the cursor sits below the prompt's
    // first row (`prevRows`, which goes stale after fast typing). The cursor is now at the start
    // of a fresh row, so that is 0. Without the field (another Node), give it rows to move into.
    const state = rl as unknown as { prevRows?: number };
    if (typeof state.prevRows === "number") state.prevRows = 0;
    else out.write("\n".repeat(rows));
    rl.prompt(true);
  };

  return {
    interactive,
    print,
    setPrompt: (prompt) => {
      rl.setPrompt(prompt);
      if (interactive && !closed) rl.prompt(true);
    },
    close: () => {
      if (closed) return;
      closed = true;
      if (interactive) options.output.write("\r\x1b[J");
      rl.close();
    },
  };
}
