import {
  type ClientFrame,
  messageIdIndex,
  messageIdValue,
  OLDER_HISTORY_PAGE_SIZE,
  oldestMessageId,
} from "@tcpchat/core/protocol";
import {
  appendLine,
  type ChatLine,
  type Conversation,
  insertLine,
  LINE_KIND,
  type PendingHistory,
} from "./conversation.js";

/**
 * History in a conversation: the page before the oldest message shown (IRCv3 chathistory
 * BEFORE, asked for by scrolling to the top or the "Load older messages" button), `/history` and
 * `/search`. Messages from history go where their id belongs and are never counted as unread.
 */

/** The target fields of a history request for a conversation: its room, or its DM peer. */
export function historyTarget(conversation: Conversation): { room: string } | { nick: string } {
  return conversation.kind === "room" ? { room: conversation.title } : { nick: conversation.title };
}

/**
 * The request for the page before the oldest message shown, with the conversation marked as
 * waiting for it; undefined when one is under way or the start was reached.
 */
export function olderRequest(conversation: Conversation, ref: string): ClientFrame | undefined {
  if (conversation.pendingHistory !== undefined || conversation.historyStart) return undefined;
  const before = oldestMessageId(conversation.lines);
  conversation.pendingHistory = {
    ref,
    kind: "older",
    limit: OLDER_HISTORY_PAGE_SIZE,
    received: 0,
    insertAt: 0,
    ...(before === undefined ? {} : { beforeId: before }),
  };
  return {
    type: "history",
    ref,
    ...historyTarget(conversation),
    limit: OLDER_HISTORY_PAGE_SIZE,
    ...(before === undefined ? {} : { dir: "before" as const, id: before.toString(36) }),
  };
}

/** Marks a conversation as waiting for a `/history` or `/search` answer. */
export function startHistory(conversation: Conversation, pending: PendingHistory): void {
  conversation.pendingHistory = pending;
}

/**
 * Adds a message from history. A search lists its results at the bottom; anything else goes
 * where its id belongs (an older page on top, oldest first). `seen` says whether its id is
 * already shown; the caller records it.
 */
export function addHistoryLine(conversation: Conversation, line: ChatLine, seen: boolean): void {
  const pending = conversation.pendingHistory;
  if (pending !== undefined) pending.received += 1;
  if (pending?.kind === "search") {
    // A result list, not the conversation: no id, so it neither dedups nor anchors paging.
    const { id: _id, ...result } = line;
    appendLine(conversation, result);
    return;
  }
  if (seen) return;
  const value = messageIdValue(line.id);
  if (pending?.kind === "older" && (pending.beforeId === undefined || value < pending.beforeId)) {
    insertLine(conversation, pending.insertAt, line);
    pending.insertAt += 1;
    return;
  }
  const index = messageIdIndex(conversation.lines, value);
  if (index < 0) appendLine(conversation, line);
  else insertLine(conversation, index, line);
}

/** The request with `ref` was answered (or failed): ends it and says how it went. */
export function finishHistory(
  conversations: Iterable<Conversation>,
  ref: string,
  failed: boolean,
): boolean {
  for (const conversation of conversations) {
    const pending = conversation.pendingHistory;
    if (pending?.ref !== ref) continue;
    conversation.pendingHistory = undefined;
    // A refused older page would be refused again on every scroll to the top: stop asking.
    if (failed) {
      if (pending.kind === "older") conversation.historyStart = true;
      return true;
    }
    const now = Date.now();
    if (pending.kind === "older") {
      if (pending.received < pending.limit) conversation.historyStart = true;
    } else if (pending.kind === "history") {
      appendLine(conversation, {
        ts: now,
        kind: LINE_KIND.event,
        text:
          pending.received === 0
            ? "No messages in history."
            : `${plural(pending.received, "message")} of history, each in its place.`,
      });
    } else {
      appendLine(conversation, {
        ts: now,
        kind: LINE_KIND.event,
        text: `Search "${pending.text ?? ""}": ${plural(pending.received, "result")}.`,
      });
    }
    return true;
  }
  return false;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}
