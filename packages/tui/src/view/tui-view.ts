/**
 * The blessed screen: tab bar, message pane, nick list, status bar and input line. The only
 * module that imports blessed. It draws whatever state it is given and turns keys, pastes,
 * wheel turns and resizes into actions; all decisions live in the state module.
 */
import { StringDecoder } from "node:string_decoder";
import blessed from "blessed";
import { activeBuffer } from "../state/buffers.js";
import { nickList, prompt, statusBar, tabBar, visibleRows } from "../state/format.js";
import { viewInput } from "../state/input.js";
import type { Action, AppState } from "../state/types.js";
import { codePointWidth, stringWidth, wideRanges } from "../state/width.js";
import { BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON, PasteSplitter } from "./bracketed-paste.js";
import { splitMouseReports } from "./mouse-reports.js";
import { rowToTags } from "./styles.js";

interface BlessedUnicode {
  charWidth(text: string | number, index?: number): number;
  chars: { all: RegExp };
}

/**
 * blessed's width table predates most emoji: it gives them one column while the terminal
 * (and state/width.ts) gives two, so every emoji shifted the rest of its row. Teach it the
 * width from state/width.ts, and let it put its "second half" placeholder after every wide
 * character (its `chars.all` pattern lists what gets one), built from the same width data.
 */
function teachBlessedWideCharacters(): void {
  const unicode = (blessed as unknown as { unicode: BlessedUnicode & { taught?: boolean } })
    .unicode;
  if (unicode.taught) return;
  unicode.taught = true;
  const charWidth = unicode.charWidth;
  unicode.charWidth = (text, index) => {
    const point = typeof text === "number" ? text : text.codePointAt(index ?? 0);
    // Below U+2300 nothing is wide that blessed does not know already: skip the lookup.
    if (point !== undefined && point >= 0x2300 && codePointWidth(point) === 2) return 2;
    return charWidth(text, index);
  };
  const hex = (cp: number) => `\\u{${cp.toString(16)}}`;
  const wide = wideRanges()
    .map(([from, to]) => (from === to ? hex(from) : `${hex(from)}-${hex(to)}`))
    .join("");
  unicode.chars.all = new RegExp(`([${wide}])`, "gu");
}

/** Options of {@link TuiView}. */
export interface TuiViewOptions {
  /** Receives every action the terminal produces. */
  dispatch: (action: Action) => void;
}

/** Columns of the nick list, or 0 when the terminal is too narrow for one. */
function nickListWidth(columns: number): number {
  return columns >= 70 ? Math.min(20, Math.floor(columns / 5)) : 0;
}

const MOUSE_WHEEL_LINES = 3;
const SHOW_CURSOR = "\x1b[?25h";

/** The terminal UI. */
export class TuiView {
  private readonly screen: blessed.Widgets.Screen;
  private readonly tabs: blessed.Widgets.BoxElement;
  private readonly messages: blessed.Widgets.BoxElement;
  private readonly nicks: blessed.Widgets.BoxElement;
  private readonly status: blessed.Widgets.BoxElement;
  private readonly inputLine: blessed.Widgets.BoxElement;
  private cursor = { row: 0, column: 0 };
  private highSurrogate = "";
  private last: AppState | undefined;
  private destroyed = false;

  constructor(private readonly options: TuiViewOptions) {
    teachBlessedWideCharacters();
    const screen = blessed.screen({
      smartCSR: true,
      fullUnicode: true,
      forceUnicode: true,
      autoPadding: false,
      warnings: false,
      title: "tcpchat",
    });
    this.screen = screen;
    // Line-drawing characters as plain UTF-8, not the terminal's ACS charset: the screen is
    // UTF-8 anyway, and text captures (tmux capture-pane) then show them as they look.
    (screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
    const box = (opts: blessed.Widgets.BoxOptions) =>
      blessed.box({ parent: screen, tags: true, wrap: false, ...opts });
    this.tabs = box({ top: 0, left: 0, height: 1, width: "100%" });
    this.messages = box({ top: 1, left: 0, mouse: true });
    this.nicks = box({ top: 1 });
    this.status = box({ left: 0, height: 1, width: "100%" });
    this.inputLine = box({ left: 0, height: 1, width: "100%" });

    this.messages.on("wheelup", () =>
      options.dispatch({ type: "scroll", lines: MOUSE_WHEEL_LINES }),
    );
    this.messages.on("wheeldown", () =>
      options.dispatch({ type: "scroll", lines: -MOUSE_WHEEL_LINES }),
    );
    screen.on("keypress", (ch: string | undefined, key: { full?: string; name?: string }) =>
      this.onKey(ch, key),
    );
    screen.on("resize", () => {
      this.layout();
      if (this.last) this.render(this.last);
    });
    screen.on("render", () => this.placeCursor());
    this.separatePastes();
    screen.program.write(BRACKETED_PASTE_ON);
    this.layout();
  }

  /** Rows and columns of the message pane. */
  private paneSize(): { columns: number; rows: number } {
    const columns = Math.max(
      10,
      (this.screen.width as number) - nickListWidth(this.screen.width as number),
    );
    return { columns, rows: Math.max(1, (this.screen.height as number) - 3) };
  }

  private layout(): void {
    const width = this.screen.width as number;
    const height = this.screen.height as number;
    const nickWidth = nickListWidth(width);
    const pane = this.paneSize();
    this.messages.width = pane.columns;
    this.messages.height = pane.rows;
    this.nicks.left = pane.columns;
    this.nicks.width = Math.max(1, nickWidth);
    this.nicks.height = pane.rows;
    this.nicks.hidden = nickWidth === 0;
    this.status.top = height - 2;
    this.inputLine.top = height - 1;
    this.options.dispatch({ type: "resize", pageRows: pane.rows });
  }

  /** Draws the state. */
  render(state: AppState): void {
    if (this.destroyed) return;
    this.last = state;
    const width = this.screen.width as number;
    const height = this.screen.height as number;
    const pane = this.paneSize();
    const now = Date.now();
    const buffer = activeBuffer(state);

    this.tabs.setContent(rowToTags(tabBar(state, width)));
    const rows = visibleRows(buffer, pane.columns, pane.rows, state.nick);
    const blank = new Array<string>(Math.max(0, pane.rows - rows.length)).fill("");
    this.messages.setContent([...blank, ...rows.map(rowToTags)].join("\n"));
    const nickWidth = nickListWidth(width);
    if (nickWidth > 0) {
      const list = nickList(state, nickWidth - 2, pane.rows);
      const lines: string[] = [];
      for (let i = 0; i < pane.rows; i++) {
        const row = list[i];
        lines.push(`{grey-fg}\u2502{/} ${row ? rowToTags(row) : ""}`);
      }
      this.nicks.setContent(lines.join("\n"));
    }
    this.status.setContent(rowToTags(statusBar(state, now, width)));
    const label = prompt(state);
    const promptWidth = stringWidth(label.text);
    const inputView = state.pendingPaste
      ? { text: "", cursorColumn: 0 }
      : viewInput(state.input, Math.max(1, width - promptWidth));
    this.inputLine.setContent(rowToTags([label, { text: inputView.text, style: "plain" }]));
    this.cursor = {
      row: height - 1,
      column: Math.min(width - 1, promptWidth + inputView.cursorColumn),
    };
    this.screen.render();
  }

  private placeCursor(): void {
    const program = this.screen.program;
    program.cup(this.cursor.row, this.cursor.column);
    program.showCursor();
  }

  private onKey(ch: string | undefined, key: { full?: string; name?: string }): void {
    // blessed splits input into UTF-16 units, so an emoji arrives as two halves.
    if (ch !== undefined && ch.length === 1) {
      const code = ch.charCodeAt(0);
      if (code >= 0xd800 && code <= 0xdbff) {
        this.highSurrogate = ch;
        return;
      }
      if (code >= 0xdc00 && code <= 0xdfff) {
        const pair = this.highSurrogate + ch;
        this.highSurrogate = "";
        this.options.dispatch({ type: "key", name: pair, ch: pair, now: Date.now() });
        return;
      }
    }
    this.highSurrogate = "";
    if (key.full === "C-l") {
      this.screen.realloc();
      if (this.last) this.render(this.last);
      return;
    }
    this.options.dispatch({
      type: "key",
      name: key.full ?? key.name ?? ch ?? "",
      ch,
      now: Date.now(),
    });
  }

  /**
   * Puts a filter in front of blessed's input handlers, so that pasted text reaches the state
   * as one paste action instead of a burst of keys (whose Enters would send each line), and
   * so that blessed sees one mouse report at a time.
   */
  private separatePastes(): void {
    const input = this.screen.program.input;
    const handlers = input.listeners("data") as Array<(data: Buffer) => void>;
    input.removeAllListeners("data");
    const decoder = new StringDecoder("utf8");
    const splitter = new PasteSplitter();
    input.on("data", (data: Buffer | string) => {
      const text = typeof data === "string" ? data : decoder.write(data);
      if (text === "") return;
      const { keys, pastes } = splitter.push(text);
      for (const paste of pastes) {
        this.options.dispatch({ type: "paste", text: paste, now: Date.now() });
      }
      if (keys === "") return;
      for (const piece of splitMouseReports(keys)) {
        const bytes = Buffer.from(piece, "utf8");
        for (const handler of handlers) handler.call(input, bytes);
      }
    });
  }

  /** Restores the terminal: normal screen, cursor, cooked mode. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.screen.program.write(BRACKETED_PASTE_OFF);
    this.screen.destroy();
    // blessed only re-shows a cursor it hid itself; this view shows and places its own.
    process.stdout.write(SHOW_CURSOR);
  }
}
