import type { ServerFrame } from "../protocol/frames.js";

/**
 * What a node publishes for a room once per flush: events, not bytes (each node encodes for its
 * own codecs). `origin` and `batch` (a counter of the node) let a receiver drop its own
 * batches and any batch it already has, such as one re-sent after a lost reply.
 */
export interface Envelope {
  /** Id of the node that published it. */
  origin: string;
  /** The publisher's batch counter: increases with every batch it publishes, in any room. */
  batch: number;
  frames: ServerFrame[];
  /** Local members that joined (`+nick`) or left (`-nick`) since the previous batch. */
  members?: string[];
}

/** An envelope as the room's log gave it: its place in the room's sequence. */
export interface Sequenced {
  epoch: string;
  seq: number;
  envelope: Envelope;
}

/** The text of an envelope, as stored in the room's stream and published on its channel. */
export function encodeEnvelope(envelope: Envelope): string {
  return JSON.stringify(envelope);
}

/** Parses an envelope; null when the text is not one (another program's data on the key). */
export function decodeEnvelope(text: string): Envelope | null {
  try {
    const value = JSON.parse(text) as Envelope;
    if (
      typeof value !== "object" ||
      value === null ||
      typeof value.origin !== "string" ||
      typeof value.batch !== "number" ||
      !Array.isArray(value.frames)
    ) {
      return null;
    }
    return value;
  } catch {
    return null;
  }
}

/**
 * Parses what the publish script sends on a room's channel: `epoch seq envelope`. The epoch
 * names one life of the room's log (a Redis that lost its data starts a new one).
 */
export function decodePublished(text: string): Sequenced | null {
  const first = text.indexOf(" ");
  const second = first === -1 ? -1 : text.indexOf(" ", first + 1);
  if (second === -1) return null;
  const seq = Number(text.slice(first + 1, second));
  const envelope = decodeEnvelope(text.slice(second + 1));
  if (!Number.isSafeInteger(seq) || envelope === null) return null;
  return { epoch: text.slice(0, first), seq, envelope };
}
