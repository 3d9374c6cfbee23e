import { encodeTextFrame } from "../framing/websocket-frame.js";
import { formatTextLine } from "../protocol/format-text.js";
import type { ServerFrame } from "../protocol/frames.js";
import { compactBatchLines } from "../protocol/message-runs.js";

/**
 * How frames become bytes for one kind of client. A session's codec is fixed once its mode is
 * settled; rooms encode each batch once per codec, whatever the number of members, so every
 * per-mode figure is derived from the members' codecs and cannot drift.
 */
export interface Codec {
  /** Small dense index: rooms keep their per-turn encodings in an array indexed by it. */
  readonly id: number;
  readonly mode: "text" | "structured";
  /** The bytes of one frame with its line ending, or null when this mode does not show it. */
  encode(frame: ServerFrame): Buffer | null;
  /**
   * The text of one frame with its line ending, or null when this mode does not show it: line
   * codecs join a batch's texts and encode them once, with no Buffer per frame.
   */
  encodeText?(frame: ServerFrame): string | null;
  /**
   * The bytes of a whole batch, when the codec does better than concatenating its frames'
   * encodings (one WebSocket frame for the batch instead of one per event).
   */
  encodeBatch?(frames: readonly ServerFrame[]): Buffer | null;
  /** The same binding with runs of messages compacted (spec 4.6), for clients that ask. */
  readonly compact?: Codec;
}

/** Text mode (spec 3): one readable line per event. */
export const TEXT_CODEC: Codec = {
  id: 0,
  mode: "text",
  encode(frame) {
    const line = formatTextLine(frame);
    return line === null ? null : Buffer.from(`${line}\n`, "utf8");
  },
  encodeText(frame) {
    const line = formatTextLine(frame);
    return line === null ? null : `${line}\n`;
  },
};

/** One frame as a JSON line, the encoding of every structured codec's single frame. */
function jsonLine(frame: ServerFrame): string {
  return `${JSON.stringify(frame)}\n`;
}

/** Structured mode for a client that asked for `messages` runs (spec 4.6). */
const JSON_COMPACT_CODEC: Codec = {
  id: 3,
  mode: "structured",
  encode: (frame) => Buffer.from(jsonLine(frame), "utf8"),
  encodeBatch: (frames) => Buffer.from(compactBatchLines(frames), "utf8"),
};

/** The WebSocket binding for a client that asked for `messages` runs (spec 4.6). */
const WS_COMPACT_CODEC: Codec = {
  id: 4,
  mode: "structured",
  encode: (frame) => encodeTextFrame(jsonLine(frame)),
  encodeBatch: (frames) => encodeTextFrame(compactBatchLines(frames)),
};

/** Structured mode (spec 4): one JSON object per line. */
export const JSON_CODEC: Codec = {
  id: 1,
  compact: JSON_COMPACT_CODEC,
  mode: "structured",
  encode: JSON_COMPACT_CODEC.encode,
  encodeText: jsonLine,
};

/**
 * WebSocket binding of structured mode (spec "One port"): the JSON lines of a batch in ONE
 * unmasked text frame. Server frames carry no mask, so a room encodes the frame once and writes
 * the same bytes to every WebSocket member.
 */
export const WS_CODEC: Codec = {
  id: 2,
  compact: WS_COMPACT_CODEC,
  mode: "structured",
  encode: WS_COMPACT_CODEC.encode,
  encodeBatch(frames) {
    let text = "";
    for (const frame of frames) text += jsonLine(frame);
    return encodeTextFrame(text);
  },
};

/** How many codecs exist (the length of a room's per-codec cache). */
export const CODEC_COUNT = 5;

/** Encodes a batch of frames as one buffer for a codec; null when it shows none of them. */
export function encodeBatch(codec: Codec, frames: readonly ServerFrame[]): Buffer | null {
  if (codec.encodeBatch !== undefined) return codec.encodeBatch(frames);
  if (frames.length === 1) return codec.encode(frames[0]!);
  if (codec.encodeText !== undefined) {
    // One string for the batch, then one Buffer: no Buffer per frame and no concat copy.
    let text = "";
    for (const frame of frames) {
      const line = codec.encodeText(frame);
      if (line !== null) text += line;
    }
    return text === "" ? null : Buffer.from(text, "utf8");
  }
  const parts: Buffer[] = [];
  for (const frame of frames) {
    const bytes = codec.encode(frame);
    if (bytes !== null) parts.push(bytes);
  }
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
