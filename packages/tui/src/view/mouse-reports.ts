/**
 * blessed parses one mouse report per chunk of input, but a fast wheel turn puts several
 * reports into one read; the rest would be lost or typed as text. This cuts a chunk so that
 * every mouse report (SGR `ESC [ < b ; x ; y M|m` or X10 `ESC [ M b x y`) stands alone.
 */

const MOUSE_REPORT = /\x1b\[<\d+;\d+;\d+[Mm]|\x1b\[M[\s\S]{3}/g;

/** The chunk as pieces: each mouse report alone, the text between kept together. */
export function splitMouseReports(chunk: string): string[] {
  const pieces: string[] = [];
  let last = 0;
  for (const match of chunk.matchAll(MOUSE_REPORT)) {
    if (match.index > last) pieces.push(chunk.slice(last, match.index));
    pieces.push(match[0]);
    last = match.index + match[0].length;
  }
  if (last < chunk.length) pieces.push(chunk.slice(last));
  return pieces;
}
