/**
 * Turns state into rows of styled text for the view: message lines wrapped to the pane width
 * (wide characters counted as two columns), the tab bar, the status bar and the prompt. Pure,
 * so layout is tested without a terminal; the view only maps styles to colours.
 */
import { activeBuffer, readMarkerIndex } from "./buffers.js";
import type { AppState, ChatBuffer, Line } from "./types.js";
import { graphemes, graphemeWidth, padToWidth, stringWidth, truncateToWidth } from "./width.js";

/** Styles a segment can have; the view maps each to colours. */
export const STYLE = {
  plain: "plain",
  time: "time",
  dim: "dim",
  info: "info",
  error: "error",
  hint: "hint",
  marker: "marker",
  queued: "queued",
  highlight: "highlight",
  own: "own",
  tab: "tab",
  tabActive: "tabActive",
  tabUnread: "tabUnread",
  tabHighlight: "tabHighlight",
  bar: "bar",
  ok: "ok",
  warn: "warn",
  bad: "bad",
  prompt: "prompt",
} as const;
/** One of {@link STYLE}, or `nick0`..`nick7` (a nick's colour). */
export type Style = (typeof STYLE)[keyof typeof STYLE] | `nick${number}`;

/** A run of text in one style. */
export interface Segment {
  readonly text: string;
  readonly style: Style;
}
/** One screen row. */
export type Row = readonly Segment[];

/** Number of distinct nick colours. */
export const NICK_COLOURS = 8;

/** A stable colour index for a nick (the same nick always gets the same colour). */
export function nickStyle(nick: string): Style {
  let hash = 0;
  for (const ch of nick.normalize("NFC").toLowerCase()) {
    hash = (hash * 31 + ch.codePointAt(0)!) >>> 0;
  }
  return `nick${hash % NICK_COLOURS}`;
}

/** `HH:MM` in local time, or blanks for lines without a time. */
export function formatTime(ts: number): string {
  if (ts <= 0) return "     ";
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/**
 * Splits text into pieces of at most `first` columns for the first row and `rest` for the
 * others, breaking after spaces when it can and inside a word only when a word is too long.
 */
export function wrapText(text: string, first: number, rest: number): string[] {
  const rows: string[] = [];
  let limit = Math.max(1, first);
  let row = "";
  let rowWidth = 0;
  let breakAt = -1; // offset in `row` just after the last space
  let widthAtBreak = 0;
  for (const g of graphemes(text)) {
    const w = graphemeWidth(g);
    if (rowWidth + w > limit && row !== "") {
      if (g === " ") {
        rows.push(row);
        row = "";
        rowWidth = 0;
        breakAt = -1;
        limit = Math.max(1, rest);
        continue;
      }
      if (breakAt > 0) {
        rows.push(row.slice(0, breakAt));
        row = row.slice(breakAt);
        rowWidth -= widthAtBreak;
      } else {
        rows.push(row);
        row = "";
        rowWidth = 0;
      }
      breakAt = -1;
      limit = Math.max(1, rest);
    }
    row += g;
    rowWidth += w;
    if (g === " ") {
      breakAt = row.length;
      widthAtBreak = rowWidth;
    }
  }
  if (row !== "" || rows.length === 0) rows.push(row);
  return rows;
}

function lineHead(line: Line, ownNick: string | undefined): Segment[] {
  const time: Segment = { text: `${formatTime(line.ts)} `, style: "time" };
  const nick = line.nick ?? "";
  const own = ownNick !== undefined && nick.toLowerCase() === ownNick.toLowerCase();
  const nickSegment = (text: string): Segment => ({ text, style: own ? "own" : nickStyle(nick) });
  switch (line.kind) {
    case "message":
      return [time, { text: "<", style: "dim" }, nickSegment(nick), { text: "> ", style: "dim" }];
    case "queued":
      return [time, { text: "<", style: "dim" }, nickSegment(nick), { text: "> ", style: "dim" }];
    case "action":
      return [
        time,
        { text: "* ", style: "plain" },
        nickSegment(nick),
        { text: " ", style: "plain" },
      ];
    case "error":
      return [time, { text: `!!! ${line.code ?? "error"}: `, style: "error" }];
    case "info":
      return [time, { text: "-- ", style: "info" }];
    case "event":
      return [time];
  }
}

const BODY_STYLE: Record<Line["kind"], Style> = {
  message: "plain",
  action: "plain",
  event: "dim",
  info: "info",
  error: "error",
  queued: "queued",
};

/** One line wrapped into rows of at most `columns` columns. */
export function formatLine(line: Line, columns: number, ownNick?: string): Row[] {
  // History is drawn dim from head to end, so it never reads as something said just now.
  const head = line.history
    ? lineHead(line, ownNick).map((segment): Segment => ({ ...segment, style: "dim" }))
    : lineHead(line, ownNick);
  const headWidth = head.reduce((sum, s) => sum + stringWidth(s.text), 0);
  // Continuation rows are indented under the text, unless the head is long (an error code):
  // then under the time, so the text keeps most of the width.
  const timeWidth = stringWidth(head[0]!.text);
  const indent = headWidth <= columns / 3 ? headWidth : timeWidth <= columns / 3 ? timeWidth : 0;
  const bodyStyle: Style = line.history
    ? "dim"
    : line.highlight
      ? "highlight"
      : BODY_STYLE[line.kind];
  let body = line.text;
  if (line.kind === "queued") body += " (queued: sent when the connection is back)";
  const pieces = wrapText(body, columns - headWidth, columns - indent);
  const rows: Row[] = pieces.map((piece, i) =>
    i === 0
      ? [...head, { text: piece, style: bodyStyle }]
      : [
          { text: " ".repeat(indent), style: "plain" },
          { text: piece, style: bodyStyle },
        ],
  );
  if (line.kind === "error" && line.hint) {
    const hintHead = `${" ".repeat(Math.min(timeWidth, indent))}hint: `;
    const hintWidth = stringWidth(hintHead);
    const hintRows = wrapText(line.hint, columns - hintWidth, columns - hintWidth);
    hintRows.forEach((piece, i) => {
      rows.push([
        { text: i === 0 ? hintHead : " ".repeat(hintWidth), style: "hint" },
        { text: piece, style: "hint" },
      ]);
    });
  }
  return rows;
}

// Wrapping is the costly part of drawing; a line object never changes, so remember its rows.
const wrapCache = new WeakMap<Line, { columns: number; own: string | undefined; rows: Row[] }>();

function cachedRows(line: Line, columns: number, own: string | undefined): Row[] {
  const hit = wrapCache.get(line);
  if (hit && hit.columns === columns && hit.own === own) return hit.rows;
  const rows = formatLine(line, columns, own);
  wrapCache.set(line, { columns, own, rows });
  return rows;
}

/**
 * The rows of the message pane, bottom-aligned: only the lines that can be visible are
 * wrapped, so a buffer with thousands of lines costs what the screen shows. Scrolled back, the
 * bottom row is a "-- more --" marker that says how many lines are below (irssi's "-- more --",
 * WeeChat's "-MORE(N)-").
 */
export function visibleRows(
  buffer: ChatBuffer,
  columns: number,
  height: number,
  ownNick?: string,
): Row[] {
  const more = buffer.scroll > 0 && height > 1 ? moreMarker(buffer.scroll, columns) : undefined;
  const room = more ? height - 1 : height;
  const marker = readMarkerIndex(buffer);
  const out: Row[] = [];
  const last = buffer.lines.length - 1 - buffer.scroll;
  for (let i = last; i >= 0 && out.length < room; i--) {
    const rows = cachedRows(buffer.lines[i]!, columns, ownNick);
    for (let r = rows.length - 1; r >= 0 && out.length < room; r--) out.push(rows[r]!);
    if (i === marker && out.length < room) {
      const label = " new ";
      const side = Math.max(0, columns - stringWidth(label));
      out.push([
        {
          text: "-".repeat(Math.floor(side / 2)) + label + "-".repeat(Math.ceil(side / 2)),
          style: "marker",
        },
      ]);
    }
  }
  out.reverse();
  if (more) out.push(more);
  return out;
}

/** The row shown below a scrolled-back pane: how many lines are below, and the way back. */
export function moreMarker(linesBelow: number, columns: number): Row {
  const below = `-- more -- ${linesBelow} ${linesBelow === 1 ? "line" : "lines"} below`;
  // The longest wording that fits the pane.
  const text =
    [`${below} (PageDown, Ctrl+End: back to the end)`, `${below} (PageDown)`, below].find(
      (t) => stringWidth(t) <= columns,
    ) ?? `-- more (${linesBelow}) --`;
  return fitRow([{ text, style: "warn" }], columns, "warn");
}

interface Tab {
  readonly text: string;
  readonly style: Style;
  readonly width: number;
  readonly buffer: ChatBuffer;
}

/**
 * The tab bar: one entry per buffer with its number and unread count. When the tabs do not
 * fit, it shows a run of whole tabs around the active one and counts the hidden ones at each
 * edge, `<+2` on the left and `+3>` on the right, coloured like the busiest tab they hide.
 */
export function tabBar(state: AppState, columns: number): Row {
  const tabs: Tab[] = state.buffers.map((b, i) => {
    const name = b.kind === "room" ? `#${b.name}` : b.kind === "dm" ? `@${b.name}` : b.name;
    const count = b.unread > 0 ? `(${b.unread})` : "";
    const text = ` ${i + 1}:${name}${count} `;
    return { text, style: tabStyle(b, state.active), width: stringWidth(text), buffer: b };
  });
  const active = Math.max(
    0,
    tabs.findIndex((t) => t.buffer.key === state.active),
  );
  const [first, last] = visibleTabs(tabs, active, columns);
  const hiddenLeft = tabs.slice(0, first);
  const hiddenRight = tabs.slice(last + 1);
  const segments: Segment[] = [];
  if (hiddenLeft.length > 0) {
    segments.push({ text: `<+${hiddenLeft.length}`, style: hiddenStyle(hiddenLeft) });
  }
  for (const tab of tabs.slice(first, last + 1))
    segments.push({ text: tab.text, style: tab.style });
  const right: Segment[] =
    hiddenRight.length > 0
      ? [{ text: `+${hiddenRight.length}>`, style: hiddenStyle(hiddenRight) }]
      : [];
  const rightWidth = right.reduce((sum, r) => sum + stringWidth(r.text), 0);
  return [...fitRow(segments, Math.max(0, columns - rightWidth), "tab"), ...right];
}

function tabStyle(buffer: ChatBuffer, active: string): Style {
  if (buffer.key === active) return "tabActive";
  if (buffer.highlight) return "tabHighlight";
  return buffer.unread > 0 ? "tabUnread" : "tab";
}

/** The style of an overflow count: what the most urgent hidden tab would show. */
function hiddenStyle(hidden: readonly Tab[]): Style {
  if (hidden.some((t) => t.buffer.highlight)) return "tabHighlight";
  return hidden.some((t) => t.buffer.unread > 0) ? "tabUnread" : "tab";
}

/**
 * The first and last index of the tabs shown: all when they fit, else the active tab, then as
 * many neighbours as fit, the following ones first, leaving room for the overflow counts.
 */
function visibleTabs(tabs: readonly Tab[], active: number, columns: number): [number, number] {
  const total = tabs.reduce((sum, t) => sum + t.width, 0);
  if (total <= columns) return [0, tabs.length - 1];
  const countWidth = (hidden: number) => (hidden > 0 ? String(hidden).length + 2 : 0);
  const fits = (first: number, last: number) => {
    let width = countWidth(first) + countWidth(tabs.length - 1 - last);
    for (let i = first; i <= last; i++) width += tabs[i]!.width;
    return width <= columns;
  };
  let first = active;
  let last = active;
  for (let grew = true; grew; ) {
    grew = false;
    if (last + 1 < tabs.length && fits(first, last + 1)) {
      last++;
      grew = true;
    } else if (first > 0 && fits(first - 1, last)) {
      first--;
      grew = true;
    }
  }
  return [first, last];
}

/** Short connection state for the status bar (with the reconnect countdown). */
export function connectionLabel(state: AppState, now: number): Segment {
  const c = state.connection;
  switch (c.status) {
    case "open":
      return { text: "online", style: "ok" };
    case "connecting":
      return {
        text: c.attempt > 0 ? `connecting (attempt ${c.attempt})` : "connecting",
        style: "warn",
      };
    case "reconnecting": {
      const seconds = Math.max(0, Math.ceil(((c.retryAt ?? now) - now) / 1000));
      return { text: `reconnecting in ${seconds}s (attempt ${c.attempt})`, style: "warn" };
    }
    case "closed":
      return { text: `offline${c.lastError ? `: ${c.lastError.code}` : ""}`, style: "bad" };
    case "idle":
      return { text: "not connected", style: "bad" };
  }
}

/** How a tab is named in the status bar and prompt: `#room`, `@nick` or `status`. */
function bufferLabel(buffer: ReturnType<typeof activeBuffer>): string {
  if (buffer.kind === "room") return `#${buffer.name}`;
  return buffer.kind === "dm" ? `@${buffer.name}` : "status";
}

/** The status bar: connection state, server, nick, tab, lag, queued messages, scroll. */
export function statusBar(state: AppState, now: number, columns: number): Row {
  const buffer = activeBuffer(state);
  const where = bufferLabel(buffer);
  const parts: Segment[] = [
    { text: " [", style: "bar" },
    connectionLabel(state, now),
    { text: `] ${state.server}`, style: "bar" },
    { text: ` | ${state.nick ?? state.wantedNick ?? "?"}`, style: "bar" },
    { text: ` | ${where}`, style: "bar" },
  ];
  if (buffer.kind === "room") parts.push({ text: ` (${buffer.members.length})`, style: "bar" });
  // Early in the bar, so a narrow terminal still shows it: a PageUp that shows nothing new yet
  // is waiting for the server, not a dead key.
  if (buffer.pendingHistory !== undefined) {
    parts.push({
      text: buffer.pendingHistory.kind === "search" ? " | searching…" : " | loading history…",
      style: "warn",
    });
  }
  if (state.connection.lagMs !== undefined && state.connection.status === "open") {
    parts.push({ text: ` | lag ${state.connection.lagMs}ms`, style: "bar" });
  }
  if (state.outbox.length > 0)
    parts.push({ text: ` | ${state.outbox.length} queued`, style: "warn" });
  if (buffer.scroll > 0)
    parts.push({ text: ` | scrolled back ${buffer.scroll} lines`, style: "warn" });
  return fitRow(parts, columns, "bar");
}

/** The prompt before the input line. */
export function prompt(state: AppState): Segment {
  if (state.pendingPaste) {
    return {
      text: `Send ${state.pendingPaste.lines.length} pasted lines? [y/n] `,
      style: "warn",
    };
  }
  const buffer = activeBuffer(state);
  const where = bufferLabel(buffer);
  return { text: `[${where}] `, style: "prompt" };
}

/** The nick list of the shown room, one nick per row, cut to `columns`. */
export function nickList(state: AppState, columns: number, height: number): Row[] {
  const buffer = activeBuffer(state);
  if (buffer.kind !== "room") return [];
  const rows: Row[] = [
    [{ text: padToWidth(`${buffer.members.length} here`, columns), style: "dim" }],
  ];
  for (const nick of buffer.members) {
    if (rows.length >= height) break;
    const own = state.nick !== undefined && nick === state.nick;
    rows.push([{ text: padToWidth(nick, columns), style: own ? "own" : nickStyle(nick) }]);
  }
  return rows;
}

/** Cuts or pads a row to exactly `columns`, padding in `fill` style. */
export function fitRow(segments: readonly Segment[], columns: number, fill: Style): Row {
  const out: Segment[] = [];
  let width = 0;
  for (const s of segments) {
    if (width >= columns) break;
    const cut = truncateToWidth(s.text, columns - width);
    if (cut.text !== "") out.push({ text: cut.text, style: s.style });
    width += cut.width;
    if (cut.text.length < s.text.length) break;
  }
  if (width < columns) out.push({ text: " ".repeat(columns - width), style: fill });
  return out;
}
