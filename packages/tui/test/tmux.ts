/**
 * Runs a program inside a private tmux server (its own `-L` socket, fixed size,
 * TERM=xterm-256color, UTF-8) and reads the screen back with capture-pane. Waits poll the
 * screen with a deadline; nothing sleeps for a fixed time.
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);
let counter = 0;

/** Options of {@link TmuxPane.start}. */
export interface TmuxStartOptions {
  /** argv of the program to run in the pane. */
  command: readonly string[];
  columns: number;
  rows: number;
  env?: Record<string, string>;
  /** Copies everything the program writes to the terminal into this file. */
  recordTo?: string;
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The cursor position, 0-based. */
export interface Cursor {
  x: number;
  y: number;
}

/** One tmux pane running one program. */
export class TmuxPane {
  private socketPath = "";

  private constructor(private readonly socket: string) {}

  /** Starts a tmux server with one window running `command`. */
  static async start(options: TmuxStartOptions): Promise<TmuxPane> {
    const socket = `tcpchat-tui-test-${process.pid}-${++counter}`;
    const pane = new TmuxPane(socket);
    const env = { TERM: "xterm-256color", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", ...options.env };
    const command = ["env", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...options.command]
      .map(shellQuote)
      .join(" ");
    // The pane starts idle; the program is started only once the options are set, so even a
    // program that exits at once leaves its pane (and exit status) to inspect.
    await pane.tmux(
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "main",
      "-x",
      String(options.columns),
      "-y",
      String(options.rows),
      "tail -f /dev/null",
    );
    pane.socketPath = await pane.display("#{socket_path}");
    await pane.tmux("set-option", "-t", "main", "remain-on-exit", "on");
    await pane.tmux("set-option", "-t", "main", "window-size", "manual");
    if (options.recordTo !== undefined) {
      await pane.tmux("pipe-pane", "-o", "-t", "main", `cat > ${shellQuote(options.recordTo)}`);
    }
    await pane.tmux("respawn-pane", "-k", "-t", "main", command);
    return pane;
  }

  private async tmux(...args: string[]): Promise<string> {
    const { stdout } = await run("tmux", ["-u", "-L", this.socket, ...args], {
      env: { ...process.env, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" },
    });
    return stdout;
  }

  /** The screen as text, one string per row (trailing spaces trimmed by tmux). */
  async capture(): Promise<string[]> {
    const text = await this.tmux("capture-pane", "-p", "-t", "main");
    return text.replace(/\n$/, "").split("\n");
  }

  /** The screen with colour escape sequences. */
  async captureWithEscapes(): Promise<string> {
    return this.tmux("capture-pane", "-p", "-e", "-t", "main");
  }

  /** A tmux format evaluated for the pane, e.g. `#{cursor_x}`. */
  async display(format: string): Promise<string> {
    return (await this.tmux("display-message", "-p", "-t", "main", format)).trim();
  }

  /** Where the cursor is. */
  async cursor(): Promise<Cursor> {
    const [x, y] = (await this.display("#{cursor_x} #{cursor_y}")).split(" ").map(Number);
    return { x: x!, y: y! };
  }

  /** Waits until the cursor is at `expected` (keys are handled asynchronously). */
  async waitForCursor(expected: Cursor, timeoutMs?: number): Promise<void> {
    let last: Cursor = { x: -1, y: -1 };
    await this.waitFor(
      async () => {
        last = await this.cursor();
        return last.x === expected.x && last.y === expected.y;
      },
      `cursor at ${JSON.stringify(expected)} (last seen at ${JSON.stringify(last)})`,
      timeoutMs,
    );
  }

  /** Types text literally (UTF-8). */
  async type(text: string): Promise<void> {
    await this.tmux("send-keys", "-t", "main", "-l", text);
  }

  /** Presses keys by tmux name: Enter, Left, PageUp, C-w, ... */
  async press(...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", "main", ...keys);
  }

  /**
   * Turns the mouse wheel over cell (x, y), 0-based, as an xterm reports it in SGR mouse mode
   * (ESC [ < 64/65 ; col ; row M), written straight to the program's input.
   */
  async wheel(direction: "up" | "down", x: number, y: number, notches = 1): Promise<void> {
    // Several notches go in one write, as a fast wheel turn arrives.
    const report = `\x1b[<${direction === "up" ? 64 : 65};${x + 1};${y + 1}M`.repeat(notches);
    const hex = [...Buffer.from(report)].map((b) => b.toString(16).padStart(2, "0"));
    await this.tmux("send-keys", "-t", "main", "-H", ...hex);
  }

  /** Pastes text the way a terminal does (bracketed, if the program asked for it). */
  async paste(text: string): Promise<void> {
    await this.tmux("set-buffer", "-b", "test", text);
    await this.tmux("paste-buffer", "-p", "-d", "-b", "test", "-t", "main");
  }

  /** Resizes the window, as a terminal resize does. */
  async resize(columns: number, rows: number): Promise<void> {
    await this.tmux("resize-window", "-t", "main", "-x", String(columns), "-y", String(rows));
  }

  /**
   * Polls the screen until `check` returns true (or a value); fails with the last screen
   * after `timeoutMs`.
   */
  async waitFor(
    check: (rows: string[]) => boolean | Promise<boolean>,
    what: string,
    timeoutMs = 10_000,
  ): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let rows: string[] = [];
    for (;;) {
      rows = await this.capture();
      if (await check(rows)) return rows;
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; screen was:\n${rows.join("\n")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Waits until some row contains `text`. */
  waitForText(text: string, timeoutMs?: number): Promise<string[]> {
    return this.waitFor(
      (rows) => rows.some((r) => r.includes(text)),
      JSON.stringify(text),
      timeoutMs,
    );
  }

  /** Stops the tmux server and everything in it, and removes its socket file. */
  async kill(): Promise<void> {
    await this.tmux("kill-server").catch(() => {});
    // tmux leaves the socket file behind after kill-server.
    if (this.socketPath !== "") await rm(this.socketPath, { force: true });
  }
}
