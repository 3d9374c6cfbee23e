/**
 * Server-to-client WebSocket frames (RFC 6455 section 5.2), built once and written as the same
 * bytes to every WebSocket member: a server's frames are not masked, so one encoding serves
 * every receiver (protocol spec, "One port": the WebSocket binding).
 */

/** FIN plus the text opcode: a whole message in one frame. */
const FIN_TEXT = 0x81;

/** Bytes of the header before a payload of `length` bytes (2, 4 or 10). */
export function textFrameHeaderBytes(length: number): number {
  if (length < 126) return 2;
  return length < 65536 ? 4 : 10;
}

/** Writes an unmasked FIN text frame header for `length` payload bytes; returns its size. */
function writeHeader(target: Buffer, length: number): number {
  target[0] = FIN_TEXT;
  if (length < 126) {
    target[1] = length;
    return 2;
  }
  if (length < 65536) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
    return 4;
  }
  target[1] = 127;
  // 64-bit length; a chat frame never needs the upper 16 bits (nor could a Buffer hold it).
  target.writeUInt16BE(0, 2);
  target.writeUIntBE(length, 4, 6);
  return 10;
}

/** One unmasked text frame holding `text` (UTF-8), header and payload in one buffer. */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text, "utf8");
  const header = textFrameHeaderBytes(length);
  const frame = Buffer.allocUnsafe(header + length);
  writeHeader(frame, length);
  frame.write(text, header, "utf8");
  return frame;
}

/** One unmasked text frame holding `payload` (which must be UTF-8), in one new buffer. */
export function encodeTextFrameBytes(payload: Uint8Array): Buffer {
  const header = textFrameHeaderBytes(payload.length);
  const frame = Buffer.allocUnsafe(header + payload.length);
  writeHeader(frame, payload.length);
  frame.set(payload, header);
  return frame;
}

/** Opcode bytes with FIN set: control frames are never fragmented (RFC 6455 section 5.5). */
const FIN_CLOSE = 0x88;
const FIN_PING = 0x89;
const FIN_PONG = 0x8a;

/** A server's ping with no payload: the same two bytes for every peer. */
export const PING_FRAME: Buffer = Buffer.from([FIN_PING, 0]);

/** A server's pong echoing a ping's payload (at most 125 bytes; section 5.5.3). */
export function encodePongFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(2 + payload.length);
  frame[0] = FIN_PONG;
  frame[1] = payload.length;
  frame.set(payload, 2);
  return frame;
}

/**
 * A server's close frame (section 5.5.1): `code` undefined gives an empty body (the answer to a
 * close that carried no status). The reason is cut to fit 123 bytes on a character boundary.
 */
export function encodeCloseFrame(code?: number, reason = ""): Buffer {
  if (code === undefined) return Buffer.from([FIN_CLOSE, 0]);
  let text = reason;
  while (Buffer.byteLength(text, "utf8") > MAX_CLOSE_REASON_BYTES) text = text.slice(0, -1);
  const length = 2 + Buffer.byteLength(text, "utf8");
  const frame = Buffer.allocUnsafe(2 + length);
  frame[0] = FIN_CLOSE;
  frame[1] = length;
  frame.writeUInt16BE(code, 2);
  frame.write(text, 4, "utf8");
  return frame;
}

/** Longest close reason RFC 6455 allows, in bytes (125 less the 2-byte status code). */
const MAX_CLOSE_REASON_BYTES = 123;
