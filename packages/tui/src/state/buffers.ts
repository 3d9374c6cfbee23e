/** Pure helpers over the buffers (tabs) of an {@link AppState}. */
import type { AppState, BufferKind, ChatBuffer, Line } from "./types.js";

/** Key of the status buffer, which holds connection events and server replies. */
export const STATUS_KEY = "*status";

/** The key under which names are unique: NFC plus case folding (spec 5). */
export function foldName(name: string): string {
  return name.toUpperCase().toLowerCase().normalize("NFC");
}

/** Strips a leading `#` from a room name. */
export function bareRoom(room: string): string {
  return room.startsWith("#") ? room.slice(1) : room;
}

/** Key of a room's buffer. */
export function roomKey(room: string): string {
  return `#${foldName(bareRoom(room))}`;
}

/** Key of a direct-message buffer. */
export function dmKey(nick: string): string {
  return `@${foldName(nick)}`;
}

/** A new, empty buffer. */
export function newBuffer(kind: BufferKind, name: string): ChatBuffer {
  const key = kind === "status" ? STATUS_KEY : kind === "room" ? roomKey(name) : dmKey(name);
  return {
    key,
    kind,
    name: kind === "room" ? bareRoom(name) : name,
    lines: [],
    unread: 0,
    highlight: false,
    readMarker: undefined,
    scroll: 0,
    members: [],
    joined: kind === "room",
    pendingHistory: undefined,
    historyStart: false,
  };
}

/** The buffer with `key`, if any. */
export function findBuffer(state: AppState, key: string): ChatBuffer | undefined {
  return state.buffers.find((b) => b.key === key);
}

/** The buffer shown. */
export function activeBuffer(state: AppState): ChatBuffer {
  return findBuffer(state, state.active) ?? state.buffers[0]!;
}

/** Adds a buffer if none has its key yet. */
export function ensureBuffer(state: AppState, kind: BufferKind, name: string): AppState {
  const buffer = newBuffer(kind, name);
  if (findBuffer(state, buffer.key)) return state;
  return { ...state, buffers: [...state.buffers, buffer] };
}

/** Replaces the buffer with `key` by `update(buffer)`. */
export function updateBuffer(
  state: AppState,
  key: string,
  update: (buffer: ChatBuffer) => ChatBuffer,
): AppState {
  let changed = false;
  const buffers = state.buffers.map((b) => {
    if (b.key !== key) return b;
    changed = true;
    return update(b);
  });
  return changed ? { ...state, buffers } : state;
}

/** Line data without the seq, which {@link appendLine} assigns. */
export type NewLine = Omit<Line, "seq">;

const COUNTS_AS_UNREAD = new Set(["message", "action", "error"]);

/**
 * Appends a line to a buffer: assigns its seq, drops the oldest lines past `maxLines`,
 * counts it as unread when the buffer is not shown, and keeps a scrolled-back view still.
 */
export function appendLine(state: AppState, key: string, line: NewLine): AppState {
  const seq = state.nextSeq;
  const next = updateBuffer(state, key, (buffer) => {
    const shown = buffer.key === state.active;
    const all = [...buffer.lines, { ...line, seq }];
    const lines = all.length > state.maxLines ? all.slice(all.length - state.maxLines) : all;
    // The status tab is a log of what was also shown where the user was looking.
    const unread =
      !shown &&
      buffer.kind !== "status" &&
      line.history !== true &&
      COUNTS_AS_UNREAD.has(line.kind);
    return {
      ...buffer,
      lines,
      unread: buffer.unread + (unread ? 1 : 0),
      highlight: buffer.highlight || (unread && line.highlight === true),
      scroll: buffer.scroll > 0 ? Math.min(buffer.scroll + 1, lines.length - 1) : 0,
    };
  });
  return next === state ? state : { ...next, nextSeq: seq + 1 };
}

/**
 * Shows another buffer. The one left gets a read marker at the next line to arrive; the one
 * shown has its unread count cleared (its marker stays, so the user sees where they left off).
 */
export function switchTo(state: AppState, key: string): AppState {
  if (key === state.active || !findBuffer(state, key)) return { ...state, completion: undefined };
  const left = state.active;
  const buffers = state.buffers.map((b) => {
    if (b.key === left) return { ...b, readMarker: state.nextSeq };
    if (b.key === key) return { ...b, unread: 0, highlight: false };
    return b;
  });
  return { ...state, buffers, active: key, completion: undefined };
}

/** Index of the first line below the read marker, or -1 when there is nothing unread to mark. */
export function readMarkerIndex(buffer: ChatBuffer): number {
  if (buffer.readMarker === undefined) return -1;
  // Lines from history (an older page put on top) were not said since the user looked.
  const index = buffer.lines.findIndex((l) => l.seq >= buffer.readMarker! && l.history !== true);
  // A marker above the very first kept line marks nothing the user has seen.
  return index <= 0 ? -1 : index;
}
