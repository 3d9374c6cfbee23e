/**
 * Terminal column widths of text. Wide and Fullwidth characters (Hangul, CJK, kana, fullwidth
 * forms, emoji drawn as emoji) take two columns by Unicode's East Asian Width property, read
 * from the maintained `get-east-asian-width` package (ambiguous ones count as narrow, as tmux
 * and xterm draw them in a UTF-8 locale); combining marks, format characters and controls take
 * none. test/width-tmux.test.ts checks these widths against what tmux draws.
 */
import { eastAsianWidth } from "get-east-asian-width";

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

// East Asian Width has no zero: these draw on top of the character before them.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const NARROW_AMBIGUOUS = { ambiguousAsWide: false } as const;

/** Columns one code point takes: 0, 1 or 2. */
export function codePointWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  // Hangul medial vowels and final consonants join the initial consonant's two columns.
  if ((cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff)) return 0;
  if (ZERO_WIDTH.test(String.fromCodePoint(cp))) return 0;
  return eastAsianWidth(cp, NARROW_AMBIGUOUS);
}

/**
 * Columns one grapheme cluster takes: the sum over its code points, which is how blessed lays
 * the row out. A cluster of emoji joined by zero-width joiners (a family) thus counts each
 * emoji; tmux 3.3a draws such a sequence in the first emoji's cells instead (measured in
 * test/width-tmux.test.ts), so a row holding one ends short there. Rare in chat; not worth
 * teaching blessed a different cell model.
 */
export function graphemeWidth(grapheme: string): number {
  if (grapheme.length === 1) return codePointWidth(grapheme.charCodeAt(0));
  let width = 0;
  for (const ch of grapheme) width += codePointWidth(ch.codePointAt(0)!);
  return width;
}

/** Splits text into grapheme clusters (what a user sees as one character). */
export function graphemes(text: string): string[] {
  const out: string[] = [];
  for (const { segment } of segmenter.segment(text)) out.push(segment);
  return out;
}

// Printable ASCII has width 1 per character, so most text skips segmentation entirely.
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** Columns a string takes in the terminal. */
export function stringWidth(text: string): number {
  if (PLAIN_ASCII.test(text)) return text.length;
  let width = 0;
  for (const { segment } of segmenter.segment(text)) width += graphemeWidth(segment);
  return width;
}

/**
 * Cuts text to at most `columns` columns without splitting a grapheme; a wide character that
 * would straddle the edge is left out. Returns the kept text and its width.
 */
export function truncateToWidth(text: string, columns: number): { text: string; width: number } {
  if (PLAIN_ASCII.test(text)) {
    const kept = text.slice(0, Math.max(0, columns));
    return { text: kept, width: kept.length };
  }
  let width = 0;
  let end = 0;
  for (const { segment, index } of segmenter.segment(text)) {
    const w = graphemeWidth(segment);
    if (width + w > columns) break;
    width += w;
    end = index + segment.length;
  }
  return { text: text.slice(0, end), width };
}

/** Pads text with spaces on the right to exactly `columns` columns (truncating if longer). */
export function padToWidth(text: string, columns: number): string {
  const cut = truncateToWidth(text, columns);
  return cut.text + " ".repeat(columns - cut.width);
}

// Wide characters live between U+1100 (Hangul initial consonants) and the end of plane 3.
const FIRST_WIDE = 0x1100;
const LAST_WIDE = 0x3ffff;

/**
 * The inclusive code point ranges {@link codePointWidth} gives two columns, scanned once from
 * the width data, for consumers that need them as a pattern (blessed's `chars.all`).
 */
export function wideRanges(): Array<readonly [number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let cp = FIRST_WIDE; cp <= LAST_WIDE; cp++) {
    if (eastAsianWidth(cp, NARROW_AMBIGUOUS) !== 2 || codePointWidth(cp) !== 2) continue;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === cp - 1) last[1] = cp;
    else ranges.push([cp, cp]);
  }
  return ranges;
}
