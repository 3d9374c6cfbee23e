/**
 * The bench's message text: fixed size, so that a receiver finds the fields at fixed offsets
 * from the end of a line without knowing how the server prefixed it (`#lobby <nick> `).
 *
 * Layout: `B` sender(6 digits) `.` seq(10 digits) `.` timestamp(12 digits, µs since the run's
 * time origin) `.` padding `~`. Every message the bench sends ends with `~`; no announcement a
 * server writes does, so a receiver counts bench messages by the byte before each line end.
 */

/** Bytes of the fixed fields before the padding: `B` + 6 + `.` + 10 + `.` + 12 + `.`. */
const HEADER_BYTES = 32;
/** Smallest message text size, in bytes (header, one padding byte, the end marker). */
export const MIN_MESSAGE_BYTES = HEADER_BYTES + 2;
/** Last byte of every bench message text: `~`. */
export const MESSAGE_END = 0x7e;
/** Last byte of a setup line (joins, readiness probes): `^`, never counted as a message. */
export const SETUP_END = 0x5e;

const SENDER_OFFSET = 1;
const SENDER_DIGITS = 6;
const SEQ_OFFSET = 8;
const SEQ_DIGITS = 10;
const TS_OFFSET = 19;
const TS_DIGITS = 12;
const ZERO = 0x30;
const LF = 0x0a;

/** Writes `digits` decimal digits of `value`, zero-padded, into `buf` at `at`. */
function writeDigits(buf: Uint8Array, at: number, digits: number, value: number): void {
  let rest = Math.floor(value);
  for (let i = at + digits - 1; i >= at; i--) {
    buf[i] = ZERO + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}

function readDigits(buf: Uint8Array, at: number, digits: number): number {
  let value = 0;
  for (let i = at; i < at + digits; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/** The fields carried by one bench message. */
export interface MessageFields {
  sender: number;
  seq: number;
  /** Send time in microseconds since the run's time origin. */
  sentAtUs: number;
}

/**
 * Encodes bench messages of one fixed size as lines (text plus LF), many at a time into one
 * buffer, so that a sender writes a batch with a single `socket.write`.
 */
export class MessageEncoder {
  readonly size: number;
  readonly #template: Buffer;

  /** @param size message text size in bytes, without the LF (at least {@link MIN_MESSAGE_BYTES}). */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < MIN_MESSAGE_BYTES) {
      throw new RangeError(
        `message size must be an integer of at least ${MIN_MESSAGE_BYTES} bytes`,
      );
    }
    this.size = size;
    this.#template = Buffer.alloc(size + 1, "x".charCodeAt(0));
    this.#template[0] = "B".charCodeAt(0);
    this.#template[7] = 0x2e;
    this.#template[18] = 0x2e;
    this.#template[31] = 0x2e;
    this.#template[size - 1] = MESSAGE_END;
    this.#template[size] = LF;
  }

  /** Encodes `count` lines with sequence numbers `firstSeq`...; `sentAtUs(i)` gives each one's time. */
  encode(sender: number, firstSeq: number, count: number, sentAtUs: (i: number) => number): Buffer {
    const line = this.size + 1;
    const out = Buffer.allocUnsafe(line * count);
    for (let i = 0; i < count; i++) {
      const at = i * line;
      this.#template.copy(out, at);
      writeDigits(out, at + SENDER_OFFSET, SENDER_DIGITS, sender);
      writeDigits(out, at + SEQ_OFFSET, SEQ_DIGITS, firstSeq + i);
      writeDigits(out, at + TS_OFFSET, TS_DIGITS, Math.max(0, sentAtUs(i)));
    }
    return out;
  }
}

/**
 * Reads the fields of a bench message whose text ends just before `end` in `buf` (that is, `end`
 * is the index of the line's LF, or of its CR for CRLF). Returns null if it is not one.
 */
export function decodeMessage(buf: Uint8Array, end: number, size: number): MessageFields | null {
  const start = end - size;
  if (start < 0 || buf[start] !== 0x42 || buf[end - 1] !== MESSAGE_END) return null;
  const sender = readDigits(buf, start + SENDER_OFFSET, SENDER_DIGITS);
  const seq = readDigits(buf, start + SEQ_OFFSET, SEQ_DIGITS);
  const sentAtUs = readDigits(buf, start + TS_OFFSET, TS_DIGITS);
  if (sender < 0 || seq < 0 || sentAtUs < 0) return null;
  return { sender, seq, sentAtUs };
}

/** A setup line (`J<id>^`) that a client sends to learn that the server put it in a room. */
export function setupLine(client: number): string {
  return `J${String(client).padStart(SENDER_DIGITS, "0")}^\n`;
}

/** The client id of a setup line ending just before `end`, or -1. */
export function decodeSetup(buf: Uint8Array, end: number): number {
  const start = end - SENDER_DIGITS - 2;
  if (start < 0 || buf[start] !== 0x4a || buf[end - 1] !== SETUP_END) return -1;
  return readDigits(buf, start + 1, SENDER_DIGITS);
}
