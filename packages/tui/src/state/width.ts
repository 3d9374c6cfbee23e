/**
 * Terminal column widths of text: East Asian Wide and Fullwidth characters (Hangul, CJK,
 * kana, fullwidth forms) and emoji take two columns, combining marks and controls none.
 * The table agrees with what blessed (fullUnicode) and tmux/xterm draw, so the cursor the
 * TUI places lands where the terminal put the glyphs.
 */

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

// Sorted, inclusive ranges of East Asian Width W/F code points in the BMP (UAX #11).
const WIDE_BMP: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2329, 0x232a],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
];

const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
// Emoji drawn as emoji by default (☕ ⭐ ✅ ✨ ...) are East Asian Wide too (UAX #11).
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;

function inRanges(cp: number, ranges: ReadonlyArray<readonly [number, number]>): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const range = ranges[mid]!;
    if (cp < range[0]) hi = mid - 1;
    else if (cp > range[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Columns one code point takes: 0, 1 or 2. */
export function codePointWidth(cp: number): number {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  // Hangul medial vowels and final consonants join the initial consonant's two columns.
  if ((cp >= 0x1160 && cp <= 0x11ff) || (cp >= 0xd7b0 && cp <= 0xd7ff)) return 0;
  if (ZERO_WIDTH.test(String.fromCodePoint(cp))) return 0;
  if (cp <= 0xffff) {
    if (inRanges(cp, WIDE_BMP)) return 2;
    return cp >= 0x2300 && EMOJI_PRESENTATION.test(String.fromCharCode(cp)) ? 2 : 1;
  }
  // Astral planes: emoji (U+1F000..U+1FAFF) and the CJK extension planes are wide.
  if (cp >= 0x1f000 && cp <= 0x1faff) return 2;
  if (cp >= 0x20000 && cp <= 0x3fffd) return 2;
  return 1;
}

/**
 * Columns one grapheme cluster takes: the sum over its code points. A cluster of emoji joined
 * by zero-width joiners (a family) thus counts each emoji, as tmux, screen and blessed draw
 * it; terminals that draw it as one glyph are rare enough not to be worth a misaligned tmux.
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
