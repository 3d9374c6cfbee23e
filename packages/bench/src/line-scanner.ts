import { MESSAGE_END } from "./message.js";

const LF = 0x0a;
const CR = 0x0d;

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
 */
export class LineScanner {
  /** Bench messages counted so far. */
  count = 0;
  readonly #keep: number;
  readonly #tail: Buffer;
  #tailLength = 0;
  readonly #onLine: LineHandler | undefined;

  /**
   * @param keepBytes bytes of a split line to keep (at least 2; message size + 2 to decode messages).
   * @param onLine optional handler for every complete line.
   */
  constructor(keepBytes = 2, onLine?: LineHandler) {
    this.#keep = Math.max(2, keepBytes);
    this.#tail = Buffer.alloc(this.#keep);
    this.#onLine = onLine;
  }

  /** Scans one chunk; returns how many bench messages it completed. */
  push(chunk: Buffer): number {
    let lf = chunk.indexOf(LF);
    if (lf === -1) {
      this.#appendTail(chunk, 0);
      return 0;
    }
    let found = 0;
    if (this.#tailLength > 0) {
      const joined = Buffer.concat([
        this.#tail.subarray(0, this.#tailLength),
        chunk.subarray(0, lf),
      ]);
      this.#tailLength = 0;
      found += this.#line(joined, 0, joined.length);
    } else {
      found += this.#line(chunk, 0, lf);
    }
    let start = lf + 1;
    for (lf = chunk.indexOf(LF, start); lf !== -1; lf = chunk.indexOf(LF, start)) {
      found += this.#line(chunk, start, lf);
      start = lf + 1;
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
    const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
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
