/**
 * The load generator's own WebSocket client framing (RFC 6455 section 5), kept minimal so that
 * a receiving client costs a header parse per frame and no copy: with 500 receivers in one
 * room the load generator, not the server, would otherwise set the WebSocket figure.
 */
import { createHash, randomBytes } from "node:crypto";

/** Frame opcodes (RFC 6455 section 5.2). */
export const WS_OPCODES = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;
/** One opcode. */
export type WsOpcode = (typeof WS_OPCODES)[keyof typeof WS_OPCODES];

const FIN = 0x80;
const MASKED = 0x80;
/** The GUID a server appends to the key (RFC 6455 section 4.2.2). */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/**
 * One masked client frame. The masking key is all zeros: RFC 6455 section 5.3 lets the client
 * choose it (ws exposes `generateMask` for the same reason), a zero key leaves the payload as
 * it is, so the load generator spends nothing on XOR, while the server still unmasks every
 * byte as it would for a browser's random key.
 */
export function encodeClientFrame(payload: Buffer, opcode: WsOpcode = WS_OPCODES.text): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = FIN | opcode;
  if (lengthBytes === 0) frame[1] = MASKED | length;
  else if (lengthBytes === 2) {
    frame[1] = MASKED | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = MASKED | 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  frame.writeUInt32BE(0, 2 + lengthBytes);
  payload.copy(frame, header);
  return frame;
}

/** The request that opens a WebSocket, and the `Sec-WebSocket-Accept` the server must answer. */
export function upgradeRequest(
  host: string,
  port: number,
  path: string,
): { request: string; accept: string } {
  const key = randomBytes(16).toString("base64");
  const accept = createHash("sha1")
    .update(key + ACCEPT_GUID)
    .digest("base64");
  const request =
    `GET ${path} HTTP/1.1\r\nHost: ${host.includes(":") ? `[${host}]` : host}:${port}\r\n` +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  return { request, accept };
}

/**
 * Checks a server's answer to {@link upgradeRequest}: null when it is a `101` with the right
 * accept value, else why not (in words, for the failure counts).
 */
export function checkUpgradeResponse(head: string, accept: string): string | null {
  const statusLine = head.slice(0, head.indexOf("\r\n"));
  if (!/^HTTP\/1\.1 101\b/.test(statusLine)) {
    return `upgrade refused: ${statusLine.slice(0, 60)}`;
  }
  const match = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head);
  if (match?.[1] !== accept) return "upgrade answered with a wrong Sec-WebSocket-Accept";
  return null;
}

/** Where {@link WsFrameReader} hands what it reads. */
export interface WsFrameHandler {
  /** A piece of a data frame's payload, `buf[start, end)`; a frame may come in several pieces. */
  data(buf: Buffer, start: number, end: number): void;
  /** A whole control frame (ping, pong, close) and its payload. */
  control(opcode: number, payload: Buffer): void;
  /** The stream broke the framing rules (a masked server frame, a bad length). */
  error(reason: string): void;
}

/** Longest control frame payload (RFC 6455 section 5.5). */
const MAX_CONTROL_PAYLOAD = 125;

/**
 * Reads server frames from a byte stream, chunk by chunk. Data payloads are passed on as
 * slices of the chunks they arrived in (no copy, no reassembly): the bench's line scanner
 * already joins lines split across pieces. Only a header split across chunks is kept (copied,
 * at most 10 bytes), and a control frame (copied, at most 125 bytes), so a chunk may be a read
 * buffer that is reused once `push` returns.
 */
export class WsFrameReader {
  readonly #header = Buffer.alloc(10);
  #headerLength = 0;
  /** Payload bytes of the current frame still to come. */
  #remaining = 0;
  #opcode = 0;
  #control: Buffer[] = [];
  #failed = false;

  constructor(private readonly handler: WsFrameHandler) {}

  /** Reads one chunk. */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.#failed) {
      if (this.#remaining > 0) {
        const end = Math.min(chunk.length, at + this.#remaining);
        this.#payload(chunk, at, end);
        this.#remaining -= end - at;
        at = end;
        if (this.#remaining === 0) this.#frameDone();
        continue;
      }
      at = this.#readHeader(chunk, at);
    }
  }

  #payload(chunk: Buffer, start: number, end: number): void {
    // Copied: the chunk may be a read buffer that the next read overwrites (onread).
    if (this.#opcode >= WS_OPCODES.close)
      this.#control.push(Buffer.from(chunk.subarray(start, end)));
    else this.handler.data(chunk, start, end);
  }

  #frameDone(): void {
    if (this.#opcode >= WS_OPCODES.close) {
      const payload = Buffer.concat(this.#control);
      this.#control = [];
      this.handler.control(this.#opcode, payload);
    }
  }

  /** Takes header bytes from `chunk` at `at`; returns where the payload (or the next) starts. */
  #readHeader(chunk: Buffer, at: number): number {
    // Fast path: the whole header is in this chunk and nothing is buffered.
    let header: Buffer;
    let base: number;
    let available: number;
    if (this.#headerLength === 0) {
      header = chunk;
      base = at;
      available = chunk.length - at;
    } else {
      const take = Math.min(10 - this.#headerLength, chunk.length - at);
      chunk.copy(this.#header, this.#headerLength, at, at + take);
      header = this.#header;
      base = 0;
      available = this.#headerLength + take;
    }
    if (available < 2) return this.#keepHeader(chunk, header, base, available);
    const b1 = header[base + 1]!;
    if ((b1 & MASKED) !== 0) {
      this.#fail("the server sent a masked frame (RFC 6455 section 5.1)");
      return chunk.length;
    }
    const short = b1 & 0x7f;
    const size = short < 126 ? 2 : short === 126 ? 4 : 10;
    if (available < size) return this.#keepHeader(chunk, header, base, available);
    let length = short;
    if (short === 126) length = header.readUInt16BE(base + 2);
    else if (short === 127) {
      if (header.readUInt32BE(base + 2) !== 0) {
        this.#fail("a frame longer than 4 GiB");
        return chunk.length;
      }
      length = header.readUInt32BE(base + 6);
    }
    this.#opcode = header[base]! & 0x0f;
    if (this.#opcode >= WS_OPCODES.close && length > MAX_CONTROL_PAYLOAD) {
      this.#fail("a control frame longer than 125 bytes");
      return chunk.length;
    }
    // Bytes of this chunk that belonged to the header (some may have been buffered before).
    const fromChunk = size - (header === this.#header ? this.#headerLength : 0);
    this.#headerLength = 0;
    this.#remaining = length;
    if (length === 0) this.#frameDone();
    return at + fromChunk;
  }

  #keepHeader(chunk: Buffer, header: Buffer, base: number, available: number): number {
    if (header !== this.#header) chunk.copy(this.#header, 0, base, base + available);
    this.#headerLength = available;
    return chunk.length;
  }

  #fail(reason: string): void {
    this.#failed = true;
    this.handler.error(reason);
  }
}

/**
 * Largest WebSocket message the load generator writes: whole JSON lines up to this many bytes
 * per message. The server closes a connection whose message exceeds its line limit (16 KiB by
 * default), and an open-loop sender catching up after a stall writes many lines at once.
 */
export const WS_MESSAGE_MAX_BYTES = 8192;

/**
 * JSON lines as client frames, one message per {@link WS_MESSAGE_MAX_BYTES} of whole lines (a
 * longer line goes alone), concatenated for one write.
 */
export function encodeClientMessages(lines: Buffer, max = WS_MESSAGE_MAX_BYTES): Buffer {
  if (lines.length <= max) return encodeClientFrame(lines);
  const frames: Buffer[] = [];
  let start = 0;
  while (start < lines.length) {
    let end = Math.min(lines.length, start + max);
    if (end < lines.length) {
      const lastLf = lines.lastIndexOf(0x0a, end - 1);
      if (lastLf >= start) end = lastLf + 1;
      else {
        const nextLf = lines.indexOf(0x0a, end);
        end = nextLf === -1 ? lines.length : nextLf + 1;
      }
    }
    frames.push(encodeClientFrame(lines.subarray(start, end)));
    start = end;
  }
  return Buffer.concat(frames);
}
