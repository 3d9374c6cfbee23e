/** One line of a conversation's history, as the page shows it. */
export interface ChatLine {
  /** The server's message id, when the line is a message. */
  readonly id?: string;
  readonly ts: number;
  /** Who wrote it; absent for events (joins, notices, errors). */
  readonly from?: string;
  readonly text: string;
  readonly kind: LineKind;
  /** Said before the page saw it (history on join, an older page, `/history`, `/search`). */
  readonly history?: boolean;
}

/** A history or search request under way for a conversation (one at a time). */
export interface PendingHistory {
  /** The request's ref: its ack or error ends it. */
  readonly ref: string;
  /** `older`: the page before the oldest message shown; `history`: /history; `search`: /search. */
  readonly kind: "older" | "history" | "search";
  /** Most messages asked for: fewer in an older page means the start of history. */
  readonly limit: number;
  /** Messages that came for it so far. */
  received: number;
  /** Older page: messages older than this id go on top, at `insertAt`, oldest first. */
  readonly beforeId?: number;
  insertAt: number;
  /** Search: the words, for the closing line. */
  readonly text?: string;
}

/** How a line is shown. */
export const LINE_KIND = {
  message: "message",
  action: "action",
  event: "event",
  error: "error",
} as const;
/** The kind of a {@link ChatLine}. */
export type LineKind = (typeof LINE_KIND)[keyof typeof LINE_KIND];

/** A room the session is in, or a direct-message thread with one peer. */
export interface Conversation {
  /** `#room` or `@nickkey`: unique among the page's conversations. */
  readonly key: string;
  readonly kind: "room" | "dm";
  /** The room's name, or the peer's nick as last seen. */
  title: string;
  /** The session's history, oldest first, at most {@link MAX_HISTORY_LINES}. */
  readonly lines: ChatLine[];
  /** Lines that arrived while another conversation was shown. */
  unread: number;
  /** Members of a room, as the server last told; empty for DMs. */
  readonly nicks: Set<string>;
  /** False once the session left the room (kept so its history stays readable). */
  joined: boolean;
  /** The history request under way, if any. */
  pendingHistory: PendingHistory | undefined;
  /** An older page came back short: there is nothing before the first line. */
  historyStart: boolean;
}

/** Lines kept per conversation: older ones are dropped so a long session stays light. */
export const MAX_HISTORY_LINES = 500;

/** A new, empty conversation. */
export function createConversation(key: string, kind: Conversation["kind"], title: string) {
  const conversation: Conversation = {
    key,
    kind,
    title,
    lines: [],
    unread: 0,
    nicks: new Set(),
    joined: kind === "room",
    pendingHistory: undefined,
    historyStart: false,
  };
  return conversation;
}

/**
 * Puts a line at `index`. Unlike {@link appendLine} it drops nothing: older pages were asked
 * for, so they may take a conversation past the cap (each append then drops one line).
 */
export function insertLine(conversation: Conversation, index: number, line: ChatLine): void {
  conversation.lines.splice(index, 0, line);
}

/** Appends a line, dropping the oldest beyond the cap. */
export function appendLine(conversation: Conversation, line: ChatLine): void {
  conversation.lines.push(line);
  if (conversation.lines.length > MAX_HISTORY_LINES) conversation.lines.shift();
}
