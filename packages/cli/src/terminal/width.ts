/**
 * Terminal column widths, for tables the console prints (a Korean nick takes two columns per
 * syllable). Widths come from Unicode's East Asian Width property through the maintained
 * `get-east-asian-width` package, ambiguous characters narrow, as in the TUI's state/width.ts;
 * marks and format characters draw on the character before them.
 */
import { eastAsianWidth } from "get-east-asian-width";

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

function codePointWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  // Hangul medial vowels and final consonants join the initial consonant's two columns.
  if ((cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff)) return 0;
  if (ZERO_WIDTH.test(String.fromCodePoint(cp))) return 0;
  return eastAsianWidth(cp, { ambiguousAsWide: false });
}

/** Columns a string takes in a terminal. */
export function displayWidth(text: string): number {
  if (PLAIN_ASCII.test(text)) return text.length;
  let width = 0;
  for (const { segment } of segmenter.segment(text)) {
    for (const ch of segment) width += codePointWidth(ch.codePointAt(0)!);
  }
  return width;
}

/** Pads text with spaces on the right to at least `columns` display columns. */
export function padToColumns(text: string, columns: number): string {
  return text + " ".repeat(Math.max(0, columns - displayWidth(text)));
}

/**
 * Lays rows out as columns aligned by display width, two spaces apart; the last column is
 * not padded. Every row should have as many cells as the first.
 */
export function formatColumns(rows: ReadonlyArray<readonly string[]>): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell));
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : padToColumns(cell, widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
}
