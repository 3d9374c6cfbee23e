import { isUtf8 } from "node:buffer";

/**
 * Reads a client's WebSocket frames (RFC 6455 section 5) straight from the socket's chunks: a
 * small state loop with no stream and no buffer while the peer is idle. Every rule a server
 * must enforce is checked the moment the bytes that break it arrive, before more is buffered.
 */

/** Close codes the reader fails a connection with (RFC 6455 section 7.4.1). */
export const WS_CLOSE_CODES = {
  normal: 1000,
  protocolError: 1002,
  /** No status code in the peer's close frame; never sent on the wire. */
  noStatus: 1005,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
} as const;

/** A close code of {@link WS_CLOSE_CODES}. */
export type WsCloseCode = (typeof WS_CLOSE_CODES)[keyof typeof WS_CLOSE_CODES];

/** Frame opcodes (RFC 6455 section 5.2). */
export const WS_OPCODES = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** Where {@link WebSocketFrameReader.push} delivers what it read. */
export interface WebSocketFrameSink {
  /** A whole message (all its fragments), unmasked; text is valid UTF-8. */
  onMessage(payload: Buffer): void;
  /** A ping: the sink answers with a pong carrying the same payload (section 5.5.2). */
  onPing(payload: Buffer): void;
  /** A pong (an answer to the server's ping, or unsolicited: both mean the peer is alive). */
  onPong(): void;
  /**
   * The peer's close frame: its status code (1005 when it sent none) and reason. The reader
   * reads nothing after it (section 5.5.1).
   */
  onClose(code: number, reason: string): void;
  /**
   * The peer broke the protocol: the sink fails the connection with `code` (section 7.1.7).
   * The reader reads nothing after it.
   */
  onFail(code: WsCloseCode, reason: string): void;
}

const STAGE = {
  header: 0,
  payload: 1,
  /** After a close frame or a failure: bytes are ignored. */
  done: 2,
} as const;
type Stage = (typeof STAGE)[keyof typeof STAGE];

/** Longest frame header a client sends: 2 bytes, 8 of extended length, 4 of mask. */
const MAX_HEADER_BYTES = 14;
/** Largest payload of a control frame (section 5.5). */
const MAX_CONTROL_PAYLOAD = 125;

/**
 * A client-to-server WebSocket frame reader for one connection. Synchronous and pure: `push`
 * the socket's chunks, and the sink hears whole messages and control frames in order. A chunk
 * is unmasked in place, so the caller must not reuse it (a socket's `'data'` chunk is its own).
 *
 * Idle, a reader holds a few numbers: partial headers and fragments are kept only while they
 * are incomplete.
 */
export class WebSocketFrameReader {
  private stage: Stage = STAGE.header;
  /** Header bytes of a frame split across chunks (at most 14). */
  private partialHeader: Buffer | undefined = undefined;
  private fin = false;
  private opcode = 0;
  /** The frame's masking key as a 32-bit number (big-endian: key byte 0 is the high byte). */
  private mask = 0;
  /** Payload bytes of the current frame still to read. */
  private remaining = 0;
  /** Payload bytes of the current frame read so far (the position in the masking key). */
  private frameOffset = 0;
  /** Opcode of the data message in progress (text or binary), 0 when none is. */
  private messageOpcode = 0;
  /** Payload bytes of the data message in progress so far, all fragments. */
  private messageBytes = 0;
  /** Unmasked pieces of the message (or control frame) in progress. */
  private pieces: Buffer[] | undefined = undefined;
  /** The message's pieces, set aside while a control frame inside it is read. */
  private heldMessagePieces: Buffer[] | undefined = undefined;

  /**
   * @param maxMessageBytes largest message, all fragments together; a longer one fails with
   *   1009 as soon as a frame header announces it.
   */
  constructor(private readonly maxMessageBytes: number) {}

  /** Whether the reader stopped (a close frame or a failure); later bytes are ignored. */
  get done(): boolean {
    return this.stage === STAGE.done;
  }

  /** Reads one chunk from the socket. */
  push(chunk: Buffer, sink: WebSocketFrameSink): void {
    let at = 0;
    while (at < chunk.length && this.stage !== STAGE.done) {
      if (this.stage === STAGE.header) {
        at = this.readHeader(chunk, at, sink);
      } else {
        const take = Math.min(this.remaining, chunk.length - at);
        const piece = chunk.subarray(at, at + take);
        unmask(piece, this.mask, this.frameOffset);
        this.frameOffset += take;
        this.remaining -= take;
        at += take;
        this.keep(piece);
        if (this.remaining === 0) this.frameEnd(sink);
      }
    }
  }

  /** Parses a header from `chunk` at `at` (joining a split one); returns where it ended. */
  private readHeader(chunk: Buffer, at: number, sink: WebSocketFrameSink): number {
    let bytes = chunk;
    let start = at;
    const partial = this.partialHeader;
    if (partial !== undefined) {
      // Rare: a header split across chunks. Join at most the header's 14 bytes.
      const joined = Buffer.concat([
        partial,
        chunk.subarray(at, at + MAX_HEADER_BYTES - partial.length),
      ]);
      bytes = joined;
      start = 0;
    }
    const available = bytes.length - start;
    if (available < 2) return this.waitForHeader(bytes, start, chunk, partial);
    const first = bytes[start]!;
    const second = bytes[start + 1]!;
    const lengthCode = second & 0x7f;
    const headerBytes = 2 + (lengthCode === 126 ? 2 : lengthCode === 127 ? 8 : 0) + 4;
    // Rules that the first two bytes already decide are checked before waiting for more.
    const failure = this.checkFirstBytes(first, second);
    if (failure !== undefined) {
      this.fail(sink, failure[0], failure[1]);
      return chunk.length;
    }
    if (available < headerBytes) {
      if (lengthCode === 127 && available >= 3 && (bytes[start + 2]! & 0x80) !== 0) {
        this.fail(
          sink,
          WS_CLOSE_CODES.protocolError,
          "a 64-bit payload length with its top bit set",
        );
        return chunk.length;
      }
      return this.waitForHeader(bytes, start, chunk, partial);
    }
    let length = lengthCode;
    if (lengthCode === 126) {
      length = bytes.readUInt16BE(start + 2);
    } else if (lengthCode === 127) {
      const high = bytes.readUInt32BE(start + 2);
      if (high & 0x80000000) {
        this.fail(
          sink,
          WS_CLOSE_CODES.protocolError,
          "a 64-bit payload length with its top bit set",
        );
        return chunk.length;
      }
      // Anything with high bits set is far past any limit; keep it as a large number.
      length = high * 0x1_0000_0000 + bytes.readUInt32BE(start + 6);
    }
    const opcode = first & 0x0f;
    if (opcode < WS_OPCODES.close) {
      if (this.messageBytes + length > this.maxMessageBytes) {
        this.fail(
          sink,
          WS_CLOSE_CODES.messageTooBig,
          `a message over ${this.maxMessageBytes} bytes`,
        );
        return chunk.length;
      }
    }
    this.fin = (first & 0x80) !== 0;
    this.opcode = opcode;
    this.mask = bytes.readUInt32BE(start + headerBytes - 4);
    this.remaining = length;
    this.frameOffset = 0;
    this.partialHeader = undefined;
    if (opcode === WS_OPCODES.text || opcode === WS_OPCODES.binary) this.messageOpcode = opcode;
    if (opcode < WS_OPCODES.close) this.messageBytes += length;
    else if (this.messageOpcode !== 0) {
      // A control frame inside a fragmented message: its payload is kept apart.
      this.heldMessagePieces = this.pieces;
      this.pieces = undefined;
    }
    // Where the header ended in `chunk` (a joined header ends inside it too).
    const consumed = partial === undefined ? at + headerBytes : at + headerBytes - partial.length;
    if (length === 0) this.frameEnd(sink);
    else this.stage = STAGE.payload;
    return consumed;
  }

  /** Keeps an incomplete header for the next chunk; returns the end of `chunk`. */
  private waitForHeader(
    bytes: Buffer,
    start: number,
    chunk: Buffer,
    partial: Buffer | undefined,
  ): number {
    // A copy: the chunk's memory must not be held for a few header bytes.
    this.partialHeader =
      partial === undefined ? Buffer.from(bytes.subarray(start)) : Buffer.from(bytes);
    return chunk.length;
  }

  /** The rules of section 5.2 and 5.5 that the first two header bytes decide. */
  private checkFirstBytes(first: number, second: number): [WsCloseCode, string] | undefined {
    // No extension is negotiated (permessage-deflate is off), so every RSV bit must be 0.
    if ((first & 0x70) !== 0) return [WS_CLOSE_CODES.protocolError, "RSV bits set"];
    // Section 5.3: a client masks every frame.
    if ((second & 0x80) === 0) return [WS_CLOSE_CODES.protocolError, "an unmasked client frame"];
    const opcode = first & 0x0f;
    const fin = (first & 0x80) !== 0;
    switch (opcode) {
      case WS_OPCODES.continuation:
        if (this.messageOpcode === 0) {
          return [WS_CLOSE_CODES.protocolError, "a continuation frame with no message to continue"];
        }
        return undefined;
      case WS_OPCODES.text:
      case WS_OPCODES.binary:
        if (this.messageOpcode !== 0) {
          return [WS_CLOSE_CODES.protocolError, "a new message inside a fragmented one"];
        }
        return undefined;
      case WS_OPCODES.close:
      case WS_OPCODES.ping:
      case WS_OPCODES.pong:
        if (!fin) return [WS_CLOSE_CODES.protocolError, "a fragmented control frame"];
        if ((second & 0x7f) > MAX_CONTROL_PAYLOAD) {
          return [WS_CLOSE_CODES.protocolError, "a control frame over 125 bytes"];
        }
        return undefined;
      default:
        return [WS_CLOSE_CODES.protocolError, `unknown opcode ${opcode}`];
    }
  }

  private keep(piece: Buffer): void {
    if (this.pieces === undefined) this.pieces = [piece];
    else this.pieces.push(piece);
  }

  /** The current frame's payload is all read. */
  private frameEnd(sink: WebSocketFrameSink): void {
    this.stage = STAGE.header;
    const opcode = this.opcode;
    if (opcode >= WS_OPCODES.close) {
      const payload = join(this.pieces);
      this.pieces = this.heldMessagePieces;
      this.heldMessagePieces = undefined;
      this.control(opcode, payload, sink);
      return;
    }
    if (!this.fin) return;
    const payload = join(this.pieces);
    const text = this.messageOpcode === WS_OPCODES.text;
    this.pieces = undefined;
    this.messageOpcode = 0;
    this.messageBytes = 0;
    if (text && !isUtf8(payload)) {
      this.fail(sink, WS_CLOSE_CODES.invalidPayload, "a text message that is not valid UTF-8");
      return;
    }
    sink.onMessage(payload);
  }

  private control(opcode: number, payload: Buffer, sink: WebSocketFrameSink): void {
    if (opcode === WS_OPCODES.ping) {
      sink.onPing(payload);
      return;
    }
    if (opcode === WS_OPCODES.pong) {
      sink.onPong();
      return;
    }
    // Close (section 5.5.1): no body, or a 2-byte status code and a UTF-8 reason.
    if (payload.length === 0) {
      this.finish();
      sink.onClose(WS_CLOSE_CODES.noStatus, "");
      return;
    }
    const code = payload.length >= 2 ? payload.readUInt16BE(0) : 0;
    if (payload.length === 1 || !isValidCloseCode(code)) {
      this.fail(sink, WS_CLOSE_CODES.protocolError, "an invalid close status code");
      return;
    }
    const reason = payload.subarray(2);
    if (!isUtf8(reason)) {
      this.fail(sink, WS_CLOSE_CODES.invalidPayload, "a close reason that is not valid UTF-8");
      return;
    }
    this.finish();
    sink.onClose(code, reason.toString("utf8"));
  }

  private fail(sink: WebSocketFrameSink, code: WsCloseCode, reason: string): void {
    this.finish();
    sink.onFail(code, reason);
  }

  /** Stops reading and lets go of anything held. */
  private finish(): void {
    this.stage = STAGE.done;
    this.pieces = undefined;
    this.heldMessagePieces = undefined;
    this.partialHeader = undefined;
  }
}

/**
 * Status codes a peer may send in a close frame (section 7.4): the defined ones except those
 * that must never be on the wire (1004, 1005, 1006, 1015), and the registered and private
 * ranges 3000-4999.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

function join(pieces: Buffer[] | undefined): Buffer {
  if (pieces === undefined) return EMPTY;
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

const EMPTY = Buffer.alloc(0);

/** XORs `bytes` with the 4-byte key `mask`, `offset` bytes into the frame's payload. */
function unmask(bytes: Buffer, mask: number, offset: number): void {
  if (mask === 0) return;
  const k0 = mask >>> 24;
  const k1 = (mask >>> 16) & 0xff;
  const k2 = (mask >>> 8) & 0xff;
  const k3 = mask & 0xff;
  const key = [k0, k1, k2, k3];
  // Rotate so that index 0 of the loop lines up with the key byte for `offset`.
  const shift = offset & 3;
  const a = key[shift]!;
  const b = key[(shift + 1) & 3]!;
  const c = key[(shift + 2) & 3]!;
  const d = key[(shift + 3) & 3]!;
  const length = bytes.length;
  const whole = length - (length & 3);
  let i = 0;
  for (; i < whole; i += 4) {
    bytes[i] = bytes[i]! ^ a;
    bytes[i + 1] = bytes[i + 1]! ^ b;
    bytes[i + 2] = bytes[i + 2]! ^ c;
    bytes[i + 3] = bytes[i + 3]! ^ d;
  }
  if (i < length) bytes[i] = bytes[i]! ^ a;
  if (i + 1 < length) bytes[i + 1] = bytes[i + 1]! ^ b;
  if (i + 2 < length) bytes[i + 2] = bytes[i + 2]! ^ c;
}
