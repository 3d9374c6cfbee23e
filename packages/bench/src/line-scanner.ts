import { MESSAGE_END } from "./message.js";

const LF = 0x0a;
const CR = 0x0d;
/** Ends an item of a `messages` run (spec 4.6) on a JSON line. */
const RUN_ITEM_END = 0x5d;

/** Called for every complete line: its text is `buf[start, end)` (line ending excluded). */
export type LineHandler = (buf: Buffer, start: number, end: number) => void;

/**
 * Counts bench messages in a received byte stream, chunk by chunk, without decoding text: a
 * bench message is a line whose last byte (before LF or CRLF) is `~`. The per-chunk work is one
 * native `indexOf` per line, which is what lets one thread count millions of lines per second.
 *
 * With a handler, every line is also handed over (for latency samples, sequence checks and
 * setup lines). Only the last `keepBytes` bytes of a line split across chunks are kept, which is
 * all that a fixed-size message needs, so a long line never grows the buffer.
 *
 * With a trailer (`"}` for JSON lines, where the message text is the last field), a line that
 * ends with it counts and is handed over as if the trailer were not there, so the same
 * fixed-offset decoding works for text and JSON clients. JSON lines also carry runs of messages
 * (`{"type":"messages",...,"items":[["id","from",0,"text"],...]}`): with a trailer, `]` ends a
 * unit too, and an item's closing quote is dropped like the trailer, so each item counts and is
 * handed over as a line of its own.
 */
export class LineScanner {
  /** Bench messages counted so far. */
  count = 0;
  #keep: number;
  #tail: Buffer;
  #tailLength = 0;
  readonly #onLine: LineHandler | undefined;
  #trailer: Buffer | undefined;

  /**
   * @param keepBytes bytes of a split line to keep (at least 2; message size + 2 to decode messages).
   * @param onLine optional handler for every complete line.
   * @param trailer bytes that follow the message text on a line (JSON lines: `"}`); default none.
   */
  constructor(keepBytes = 2, onLine?: LineHandler, trailer?: Buffer) {
    this.#trailer = trailer !== undefined && trailer.length > 0 ? trailer : undefined;
    this.#keep = Math.max(2, keepBytes) + (this.#trailer?.length ?? 0);
    this.#tail = Buffer.alloc(this.#keep);
    this.#onLine = onLine;
  }

  /**
   * Sets the trailer (see the class notes; undefined: none) before the first chunk; returns
   * the scanner, so that `new LineScanner(keep, onLine).trailedBy(client.lineTrailer)` reads as
   * one expression.
   */
  trailedBy(trailer: Buffer | undefined): this {
    const keep = this.#keep - (this.#trailer?.length ?? 0);
    this.#trailer = trailer !== undefined && trailer.length > 0 ? trailer : undefined;
    this.#keep = keep + (this.#trailer?.length ?? 0);
    this.#tail = Buffer.alloc(this.#keep);
    this.#tailLength = 0;
    return this;
  }

  /** Scans one chunk; returns how many bench messages it completed. */
  push(chunk: Buffer): number {
    const runs = this.#trailer !== undefined;
    let lf = chunk.indexOf(LF);
    let item = runs ? chunk.indexOf(RUN_ITEM_END) : -1;
    let end = item === -1 || (lf !== -1 && lf < item) ? lf : item;
    if (end === -1) {
      this.#appendTail(chunk, 0);
      return 0;
    }
    let found = 0;
    if (this.#tailLength > 0) {
      const joined = Buffer.concat([
        this.#tail.subarray(0, this.#tailLength),
        chunk.subarray(0, end),
      ]);
      this.#tailLength = 0;
      found += this.#line(joined, 0, joined.length);
    } else {
      found += this.#line(chunk, 0, end);
    }
    let start = end + 1;
    for (;;) {
      // One indexOf per unit end of each kind: a position is looked up again only once passed.
      if (lf !== -1 && lf < start) lf = chunk.indexOf(LF, start);
      if (item !== -1 && item < start) item = chunk.indexOf(RUN_ITEM_END, start);
      end = item === -1 || (lf !== -1 && lf < item) ? lf : item;
      if (end === -1) break;
      found += this.#line(chunk, start, end);
      start = end + 1;
    }
    this.#appendTail(chunk, start);
    this.count += found;
    return found;
  }

  /** Forgets a partial line and the count. */
  reset(): void {
    this.#tailLength = 0;
    this.count = 0;
  }

  #line(buf: Buffer, start: number, lf: number): number {
    let end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    const trailer = this.#trailer;
    if (trailer !== undefined && end - start >= trailer.length) {
      const from = end - trailer.length;
      let i = 0;
      while (i < trailer.length && buf[from + i] === trailer[i]) i++;
      if (i === trailer.length) end = from;
      else if (buf[end - 1] === trailer[0]) end -= 1;
    }
    this.#onLine?.(buf, start, end);
    return end > start && buf[end - 1] === MESSAGE_END ? 1 : 0;
  }

  #appendTail(chunk: Buffer, from: number): void {
    const rest = chunk.length - from;
    if (rest === 0) return;
    if (rest >= this.#keep) {
      chunk.copy(this.#tail, 0, chunk.length - this.#keep);
      this.#tailLength = this.#keep;
      return;
    }
    const keepOld = Math.min(this.#tailLength, this.#keep - rest);
    this.#tail.copy(this.#tail, 0, this.#tailLength - keepOld, this.#tailLength);
    chunk.copy(this.#tail, keepOld, from);
    this.#tailLength = keepOld + rest;
  }
}
