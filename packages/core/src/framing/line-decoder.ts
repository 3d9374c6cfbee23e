import { isUtf8 } from "node:buffer";
import { DEFAULT_MAX_LINE_BYTES } from "../defaults.js";
import { FramingError } from "../errors.js";

const LF = 0x0a;
const CR = 0x0d;
/** Smallest buffer a partial line starts in; it doubles as the line grows (up to the limit). */
const INITIAL_PARTIAL_BYTES = 256;

/** Options of {@link LineDecoder}. */
export interface LineDecoderOptions {
  /** Longest line accepted, in bytes, without its ending. Default 16384 (16 KiB). */
  maxLineBytes?: number;
}

/** A decoded line, or the error that cost the sender that line. */
export type DecodedLine = string | FramingError;

/**
 * Streaming decoder of UTF-8 lines ended by LF or CRLF (protocol spec section 1).
 *
 * Pure and synchronous. Each byte is scanned once, whatever the chunking: a partial line is
 * copied into one growing buffer (amortized O(n)) and only new bytes are searched for LF. The
 * limit is checked as bytes arrive, so a line that never ends costs at most the limit in memory.
 */
export class LineDecoder {
  private limit: number;
  private partial: Buffer | null = null;
  private partialLength = 0;
  /** True while skipping the rest of an over-long line, up to its LF (spec 1.2). */
  private discarding = false;

  constructor(options: LineDecoderOptions = {}) {
    this.limit = checkedLimit(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  }

  /** Longest line accepted, in bytes, without its ending. */
  get maxLineBytes(): number {
    return this.limit;
  }

  /**
   * Changes the limit from the next byte on (a client learns its server's limit from the
   * welcome). A partial line already past the new limit is reported when its next bytes come.
   */
  setMaxLineBytes(maxLineBytes: number): void {
    this.limit = checkedLimit(maxLineBytes);
  }

  /** Bytes held for a line not yet ended. */
  get bufferedBytes(): number {
    return this.partialLength;
  }

  /** The first byte of the line not yet ended, if any (it tells a JSON line from a text one). */
  get firstBufferedByte(): number | undefined {
    return this.partialLength > 0 ? this.partial![0] : undefined;
  }

  /** Whether a line has started and not ended (buffered, or being discarded as too long). */
  get midLine(): boolean {
    return this.partialLength > 0 || this.discarding;
  }

  /**
   * Bytes of the last {@link push} that it took: the whole chunk, or with `maxLines`, up to and
   * including the LF of the last line it completed. The caller keeps the rest for later.
   */
  consumed = 0;

  /**
   * Feeds a chunk; returns the lines (and errors) it completes, in order. Never throws.
   * With `maxLines`, stops after that many LFs and leaves the rest of the chunk unread (see
   * {@link consumed}): a budget is applied in the same scan that finds the lines.
   */
  push(chunk: Uint8Array, maxLines = Number.POSITIVE_INFINITY): DecodedLine[] {
    const out: DecodedLine[] = [];
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let found = 0; found < maxLines; found++) {
      const lf = bytes.indexOf(LF, start);
      if (lf === -1) {
        this.keepPartial(bytes, start, out);
        this.consumed = bytes.length;
        return out;
      }
      this.completeLine(bytes, start, lf, out);
      start = lf + 1;
    }
    this.consumed = start;
    return out;
  }

  /** The peer closed: bytes after the last LF form a final line (spec 1.5). */
  end(): DecodedLine[] {
    const out: DecodedLine[] = [];
    if (this.discarding) {
      this.reset();
      return out;
    }
    if (this.partialLength > 0) {
      this.completeLine(Buffer.alloc(0), 0, 0, out);
    }
    this.reset();
    return out;
  }

  /** Drops any partial line. */
  reset(): void {
    this.partial = null;
    this.partialLength = 0;
    this.discarding = false;
  }

  private keepPartial(bytes: Buffer, start: number, out: DecodedLine[]): void {
    if (this.discarding || start >= bytes.length) return;
    const length = bytes.length - start;
    // One byte of slack: a line of exactly the limit may still be followed by the CR of its CRLF.
    if (this.partialLength + length > this.maxLineBytes + 1) {
      out.push(this.tooLong());
      this.partial = null;
      this.partialLength = 0;
      this.discarding = true;
      return;
    }
    this.append(bytes, start, bytes.length);
  }

  private completeLine(bytes: Buffer, start: number, lf: number, out: DecodedLine[]): void {
    if (this.discarding) {
      // The error was reported when the limit was passed; the LF ends the discarded line.
      this.discarding = false;
      return;
    }
    let line: Buffer;
    if (this.partialLength === 0) {
      line = bytes.subarray(start, lf);
    } else {
      if (this.partialLength + (lf - start) > this.maxLineBytes + 1) {
        this.partial = null;
        this.partialLength = 0;
        out.push(this.tooLong());
        return;
      }
      this.append(bytes, start, lf);
      line = this.partial!.subarray(0, this.partialLength);
    }
    let end = line.length;
    if (end > 0 && line[end - 1] === CR) end -= 1;
    if (end > this.maxLineBytes) {
      out.push(this.tooLong());
    } else {
      const body = line.subarray(0, end);
      out.push(
        isUtf8(body)
          ? body.toString("utf8")
          : new FramingError("CHAT_ERR_INVALID_UTF8", {
              message: `The line (${end} bytes) is not valid UTF-8 and was discarded.`,
            }),
      );
    }
    // Idle connections hold no buffer: the next partial line allocates its own.
    this.partial = null;
    this.partialLength = 0;
  }

  private append(bytes: Buffer, from: number, to: number): void {
    const needed = this.partialLength + (to - from);
    if (this.partial === null || this.partial.length < needed) {
      let size = Math.max(INITIAL_PARTIAL_BYTES, (this.partial?.length ?? 0) * 2);
      while (size < needed) size *= 2;
      size = Math.min(size, this.maxLineBytes + 1);
      const grown = Buffer.allocUnsafe(Math.max(size, needed));
      if (this.partial !== null) this.partial.copy(grown, 0, 0, this.partialLength);
      this.partial = grown;
    }
    bytes.copy(this.partial, this.partialLength, from, to);
    this.partialLength = needed;
  }

  private tooLong(): FramingError {
    return new FramingError("CHAT_ERR_LINE_TOO_LONG", {
      message: `The line is longer than ${this.maxLineBytes} bytes and was discarded.`,
    });
  }
}

function checkedLimit(maxLineBytes: number): number {
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  }
  return maxLineBytes;
}
