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
