/**
 * The input line: text plus a cursor that always sits on a grapheme boundary, with the
 * editing moves of a shell (readline/emacs keys). Pure functions over {@link InputLine}.
 */
import { graphemes, graphemeWidth, stringWidth, truncateToWidth } from "./width.js";

/** Text being typed and the cursor, a UTF-16 offset on a grapheme boundary. */
export interface InputLine {
  readonly text: string;
  readonly cursor: number;
}

/** An empty input line. */
export const EMPTY_INPUT: InputLine = { text: "", cursor: 0 };

/** Offsets of every grapheme boundary in `text`, from 0 to `text.length`. */
function boundaries(text: string): number[] {
  const out = [0];
  let offset = 0;
  for (const g of graphemes(text)) {
    offset += g.length;
    out.push(offset);
  }
  return out;
}

function previousBoundary(text: string, cursor: number): number {
  let prev = 0;
  for (const b of boundaries(text)) {
    if (b >= cursor) break;
    prev = b;
  }
  return prev;
}

function nextBoundary(text: string, cursor: number): number {
  for (const b of boundaries(text)) if (b > cursor) return b;
  return text.length;
}

const WORD_CHAR = /[\p{L}\p{N}\p{M}_]/u;

/** Start of the word left of the cursor (skipping separators first), like readline's M-b. */
function wordStartBefore(text: string, cursor: number): number {
  let i = cursor;
  while (i > 0 && !WORD_CHAR.test(charBefore(text, i))) i -= charBefore(text, i).length;
  while (i > 0 && WORD_CHAR.test(charBefore(text, i))) i -= charBefore(text, i).length;
  return i;
}

/** End of the word right of the cursor, like readline's M-f. */
function wordEndAfter(text: string, cursor: number): number {
  let i = cursor;
  while (i < text.length && !WORD_CHAR.test(charAt(text, i))) i += charAt(text, i).length;
  while (i < text.length && WORD_CHAR.test(charAt(text, i))) i += charAt(text, i).length;
  return i;
}

function charAt(text: string, i: number): string {
  return String.fromCodePoint(text.codePointAt(i)!);
}

function charBefore(text: string, i: number): string {
  const low = text.charCodeAt(i - 1);
  if (i >= 2 && low >= 0xdc00 && low <= 0xdfff) return text.slice(i - 2, i);
  return text.slice(i - 1, i);
}

/** Start of the whitespace-delimited word before the cursor (Ctrl+W deletes back to it). */
function spaceWordStartBefore(text: string, cursor: number): number {
  let i = cursor;
  while (i > 0 && /\s/.test(text[i - 1]!)) i--;
  while (i > 0 && !/\s/.test(text[i - 1]!)) i--;
  return i;
}

/** Inserts text at the cursor; line breaks become spaces (a line is one message). */
export function insertText(input: InputLine, text: string): InputLine {
  const clean = text.replace(/\r\n|[\r\n\t]/g, " ").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
  if (clean === "") return input;
  return {
    text: input.text.slice(0, input.cursor) + clean + input.text.slice(input.cursor),
    cursor: input.cursor + clean.length,
  };
}

/** The editing moves an input line supports. */
export const EDIT_OPS = [
  "left",
  "right",
  "home",
  "end",
  "wordLeft",
  "wordRight",
  "backspace",
  "delete",
  "deleteWordBack",
  "deleteWordForward",
  "killToStart",
  "killToEnd",
  "transpose",
] as const;
/** One editing move. */
export type EditOp = (typeof EDIT_OPS)[number];

/** Applies one editing move. */
export function edit(input: InputLine, op: EditOp): InputLine {
  const { text, cursor } = input;
  switch (op) {
    case "left":
      return { text, cursor: previousBoundary(text, cursor) };
    case "right":
      return { text, cursor: nextBoundary(text, cursor) };
    case "home":
      return { text, cursor: 0 };
    case "end":
      return { text, cursor: text.length };
    case "wordLeft":
      return { text, cursor: wordStartBefore(text, cursor) };
    case "wordRight":
      return { text, cursor: wordEndAfter(text, cursor) };
    case "backspace": {
      const start = previousBoundary(text, cursor);
      return { text: text.slice(0, start) + text.slice(cursor), cursor: start };
    }
    case "delete": {
      const end = nextBoundary(text, cursor);
      return { text: text.slice(0, cursor) + text.slice(end), cursor };
    }
    case "deleteWordBack": {
      const start = spaceWordStartBefore(text, cursor);
      return { text: text.slice(0, start) + text.slice(cursor), cursor: start };
    }
    case "deleteWordForward": {
      const end = wordEndAfter(text, cursor);
      return { text: text.slice(0, cursor) + text.slice(end), cursor };
    }
    case "killToStart":
      return { text: text.slice(cursor), cursor: 0 };
    case "killToEnd":
      return { text: text.slice(0, cursor), cursor };
    case "transpose": {
      if (cursor === 0 || text.length < 2) return input;
      const at = cursor === text.length ? previousBoundary(text, cursor) : cursor;
      const before = previousBoundary(text, at);
      const after = nextBoundary(text, at);
      const swapped = text.slice(at, after) + text.slice(before, at);
      return { text: text.slice(0, before) + swapped + text.slice(after), cursor: after };
    }
  }
}

/** Column of the cursor from the start of the text (wide characters count two). */
export function cursorColumn(input: InputLine): number {
  return stringWidth(input.text.slice(0, input.cursor));
}

/** What of the input line fits in `columns`, and where the cursor goes in it. */
export interface InputView {
  /** The visible slice of the text (never splits a grapheme). */
  readonly text: string;
  /** Cursor column inside the slice, 0-based. */
  readonly cursorColumn: number;
}

/**
 * The part of a long input line to show in `columns` columns, scrolled so the cursor is
 * visible with room to its right (the last column is kept free for the cursor itself).
 */
export function viewInput(input: InputLine, columns: number): InputView {
  const usable = Math.max(1, columns - 1);
  const column = cursorColumn(input);
  // Scroll in steps of half the width, so typing does not shift the text on every key.
  const step = Math.max(1, Math.floor(usable / 2));
  const skip = column < usable ? 0 : Math.floor((column - usable) / step + 1) * step;
  let start = 0;
  let startColumn = 0;
  for (const g of graphemes(input.text)) {
    if (startColumn >= skip) break;
    startColumn += graphemeWidth(g);
    start += g.length;
  }
  const visible = truncateToWidth(input.text.slice(start), columns).text;
  return { text: visible, cursorColumn: column - startColumn };
}
