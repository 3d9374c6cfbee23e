/**
 * History from the server in a buffer: PageUp past the top asks for the page before the oldest
 * message shown (IRCv3 chathistory BEFORE), `/history` and `/search` ask for more, and the
 * messages that answer are put in id order without showing one twice.
 */
import {
  messageIdIndex,
  messageIdValue,
  OLDER_HISTORY_PAGE_SIZE,
  oldestMessageId,
} from "@tcpchat/core";
import { appendLine, dmKey, findBuffer, type NewLine, roomKey, updateBuffer } from "./buffers.js";
import { errorLine, online, only, type Reduction } from "./reduction.js";
import type {
  AppState,
  ChatBuffer,
  HistoryQueryFields,
  HistoryRequestKind,
  Line,
  PendingHistory,
  ShownError,
} from "./types.js";

/** The target of a buffer's history requests: a room, or the other nick of a DM buffer. */
function historyTarget(buffer: ChatBuffer): { target: string; dm: boolean } | undefined {
  if (buffer.kind === "room") return { target: buffer.name, dm: false };
  if (buffer.kind === "dm") return { target: buffer.name, dm: true };
  return undefined;
}

/**
 * PageUp reached the top of the shown buffer: asks for the page of history before its oldest
 * message, unless one is under way, the start was reached, or the client is offline.
 */
export function requestOlder(state: AppState, bufferKey: string): Reduction {
  const buffer = findBuffer(state, bufferKey);
  if (buffer === undefined || buffer.pendingHistory !== undefined || buffer.historyStart) {
    return only(state);
  }
  const target = historyTarget(buffer);
  if (target === undefined || !online(state)) return only(state);
  const before = oldestMessageId(buffer.lines);
  const query: HistoryQueryFields =
    before === undefined
      ? { dir: "latest", limit: OLDER_HISTORY_PAGE_SIZE }
      : { dir: "before", id: before.toString(36), limit: OLDER_HISTORY_PAGE_SIZE };
  const pending: PendingHistory = {
    kind: "older",
    limit: OLDER_HISTORY_PAGE_SIZE,
    received: 0,
    insertAt: 0,
    ...(before === undefined ? {} : { beforeId: before }),
  };
  return {
    state: updateBuffer(state, bufferKey, (b) => ({ ...b, pendingHistory: pending })),
    effects: [{ type: "history", bufferKey, ...target, query }],
  };
}

/** Starts a `/history` or `/search` request for a buffer (the effect is the caller's). */
export function startRequest(
  state: AppState,
  bufferKey: string,
  kind: HistoryRequestKind,
  limit: number,
  text?: string,
): AppState {
  return updateBuffer(state, bufferKey, (b) => ({
    ...b,
    pendingHistory: { kind, limit, received: 0, insertAt: 0, ...(text ? { text } : {}) },
  }));
}

/** The key of the buffer a history message belongs to. */
export function historyBufferKey(target: { room: string } | { dm: string }): string {
  return "room" in target ? roomKey(target.room) : dmKey(target.dm);
}

/**
 * Adds a message from history to a buffer. A search's results are listed at the bottom; any
 * other history message goes where its id belongs (older than everything shown: at the top,
 * after what an older page put there already), and one already shown is skipped.
 */
export function addHistoryLine(state: AppState, key: string, line: NewLine): AppState {
  const buffer = findBuffer(state, key);
  if (buffer === undefined) return state;
  const pending = buffer.pendingHistory;
  const counted =
    pending === undefined
      ? state
      : updateBuffer(state, key, (b) => ({
          ...b,
          pendingHistory: { ...pending, received: pending.received + 1 },
        }));
  if (pending?.kind === "search") {
    // A result list, not the conversation: no id, so it neither dedups nor anchors paging.
    const { id: _id, ...result } = line;
    return appendLine(counted, key, result);
  }
  const value = messageIdValue(line.id);
  if (buffer.lines.some((l) => l.id === line.id)) return counted;
  // An older page arrives oldest first: each message goes below the one before it, above
  // everything that was there (also the lines without an id, such as "Connected").
  const older =
    pending?.kind === "older" && (pending.beforeId === undefined || value < pending.beforeId);
  if (older) return insertLine(counted, key, pending.insertAt, line, true);
  const index = messageIdIndex(buffer.lines, value);
  if (index < 0) return appendLine(counted, key, line);
  return insertLine(counted, key, index, line, false);
}

/** Puts a line at `index` (above the bottom: a scrolled-back view stays where it is). */
function insertLine(
  state: AppState,
  key: string,
  index: number,
  line: NewLine,
  advanceInsert: boolean,
): AppState {
  const seq = state.nextSeq;
  const next = updateBuffer(state, key, (b) => {
    const lines = [...b.lines.slice(0, index), { ...line, seq } as Line, ...b.lines.slice(index)];
    const pending = b.pendingHistory;
    return {
      ...b,
      lines,
      pendingHistory:
        advanceInsert && pending !== undefined ? { ...pending, insertAt: index + 1 } : pending,
    };
  });
  return { ...next, nextSeq: seq + 1 };
}

/** A history or search request ended: says how it went, and notes the start of history. */
export function onHistoryDone(
  state: AppState,
  key: string,
  now: number,
  error: ShownError | undefined,
): Reduction {
  const buffer = findBuffer(state, key);
  const pending = buffer?.pendingHistory;
  if (buffer === undefined || pending === undefined) return only(state);
  const cleared = updateBuffer(state, key, (b) => ({ ...b, pendingHistory: undefined }));
  if (error !== undefined) {
    // An older page refused (no history kept, a guest's DMs) would be refused on every PageUp
    // at the top: say it once and stop asking (/history still asks; /clear starts over).
    const stopped =
      pending.kind === "older"
        ? updateBuffer(cleared, key, (b) => ({ ...b, historyStart: true }))
        : cleared;
    return only(appendLine(stopped, key, errorLine(error, now)));
  }
  switch (pending.kind) {
    case "older": {
      if (pending.received >= pending.limit) return only(cleared);
      const what =
        buffer.kind === "dm" ? `your conversation with ${buffer.name}` : `#${buffer.name}`;
      const start: NewLine = {
        ts: now,
        kind: "info",
        text: `*** Start of the history of ${what}.`,
      };
      return only(
        updateBuffer(insertLine(cleared, key, 0, start, false), key, (b) => ({
          ...b,
          historyStart: true,
        })),
      );
    }
    case "history":
      return only(
        appendLine(cleared, key, {
          ts: now,
          kind: "info",
          text:
            pending.received === 0
              ? "*** No messages in history."
              : `*** ${plural(pending.received, "message")} of history (in place, each shown once).`,
        }),
      );
    case "search":
      return only(
        appendLine(cleared, key, {
          ts: now,
          kind: "info",
          text: `*** Search "${pending.text ?? ""}": ${plural(pending.received, "result")}.`,
        }),
      );
  }
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}
