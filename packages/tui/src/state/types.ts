import type { ClientFrame, ClientState, ServerFrame } from "@tcpchat/core";
/** The TUI's whole state, the actions that change it, and the effects it asks for. */
import type { Completion } from "./completion.js";
import type { History } from "./history.js";
import type { InputLine } from "./input.js";

/** How a line in a buffer is drawn. */
export const LINE_KIND = {
  /** `<nick> text` */
  message: "message",
  /** `* nick text` (/me) */
  action: "action",
  /** Joins, leaves, nick changes: dimmed. */
  event: "event",
  /** Replies and notices from the server or the TUI itself. */
  info: "info",
  /** An error, drawn highlighted with its hint. */
  error: "error",
  /** Typed while disconnected; sent when the connection is back. */
  queued: "queued",
} as const;
/** One of {@link LINE_KIND}. */
export type LineKind = (typeof LINE_KIND)[keyof typeof LINE_KIND];

/** One line of a buffer. */
export interface Line {
  /** Increases by one for every line the TUI adds, across all buffers. */
  readonly seq: number;
  /** Time in ms since the epoch (the server's `ts` when it sent one). */
  readonly ts: number;
  readonly kind: LineKind;
  readonly nick?: string;
  readonly text: string;
  /** Error code and hint, for error lines. */
  readonly code?: string;
  readonly hint?: string;
  /** The server's message id, used to avoid showing a message twice. */
  readonly id?: string;
  /** The text mentions the user's nick (or is a direct message to them). */
  readonly highlight?: boolean;
  /** A message from the room's history (sent on join or asked for), not said just now. */
  readonly history?: boolean;
}

/** The kinds of buffer (tab). */
export const BUFFER_KIND = { status: "status", room: "room", dm: "dm" } as const;
/** One of {@link BUFFER_KIND}. */
export type BufferKind = (typeof BUFFER_KIND)[keyof typeof BUFFER_KIND];

/** A tab: the status buffer, a room, or a direct-message conversation. */
export interface ChatBuffer {
  /** Unique key: `*status`, `#room` or `@nick`, case-folded. */
  readonly key: string;
  readonly kind: BufferKind;
  /** Name as shown: the room or the nick. */
  readonly name: string;
  readonly lines: readonly Line[];
  /** Messages that arrived while the tab was not shown. */
  readonly unread: number;
  /** Some unread message mentions the user or is a direct message. */
  readonly highlight: boolean;
  /** Seq of the first line not yet seen; the read marker is drawn above it. */
  readonly readMarker: number | undefined;
  /** Lines scrolled back from the bottom (0 = following new lines). */
  readonly scroll: number;
  /** Members of a room, as the server last told, sorted. */
  readonly members: readonly string[];
  /** For rooms: whether the session is (or should be, after a reconnect) in it. */
  readonly joined: boolean;
  /** A history or search request for this buffer is under way (one at a time). */
  readonly pendingHistory: PendingHistory | undefined;
  /** Older history was asked for and the server had no more: PageUp asks no further. */
  readonly historyStart: boolean;
}

/** What a buffer's history request is: PageUp's older page, `/history`, or `/search`. */
export const HISTORY_REQUEST_KIND = {
  older: "older",
  history: "history",
  search: "search",
} as const;
/** One of {@link HISTORY_REQUEST_KIND}. */
export type HistoryRequestKind = (typeof HISTORY_REQUEST_KIND)[keyof typeof HISTORY_REQUEST_KIND];

/** A history or search request under way for one buffer, and what its frames did so far. */
export interface PendingHistory {
  readonly kind: HistoryRequestKind;
  /** Most messages asked for: fewer in an older page means the start of history. */
  readonly limit: number;
  /** Messages received for it so far (shown or already there). */
  readonly received: number;
  /** Older page: messages older than this id go above everything (at `insertAt`). */
  readonly beforeId?: number;
  /** Older page: where the next older message goes, counted from the top. */
  readonly insertAt: number;
  /** Search: the words, for the closing line. */
  readonly text?: string;
}

/** Connection states: the ChatClient's own. */
export { CLIENT_STATE as CONNECTION_STATUS } from "@tcpchat/core";
/** One of {@link CONNECTION_STATUS}. */
export type ConnectionStatus = ClientState;

/** An error as the TUI shows it: code, message, hint. */
export interface ShownError {
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

/** The connection as the status bar shows it. */
export interface Connection {
  readonly status: ConnectionStatus;
  /** Reconnect attempt number (1 for the first retry). */
  readonly attempt: number;
  /** When the next connection attempt starts, ms since the epoch (while reconnecting). */
  readonly retryAt: number | undefined;
  /** Why the last connection failed or closed. */
  readonly lastError: ShownError | undefined;
  /** Round-trip time of the last ping, in ms. */
  readonly lagMs: number | undefined;
}

/** Where a message goes. */
export type Target = { readonly room: string } | { readonly dm: string };

/** A message typed while disconnected, waiting for the connection. */
export interface QueuedMessage {
  readonly id: number;
  readonly target: Target;
  readonly text: string;
  readonly action: boolean;
  /** Seq of the "queued" line that shows it. */
  readonly lineSeq: number;
  /** Handed to the client after a reconnect, waiting for its ack. */
  readonly sending: boolean;
}

/** Lines pasted at once, waiting for the user to confirm sending them. */
export interface PendingPaste {
  readonly lines: readonly string[];
  readonly bufferKey: string;
}

/** The whole TUI state. */
export interface AppState {
  /** `host:port` as given. */
  readonly server: string;
  readonly nick: string | undefined;
  /** Nick asked for at start and kept across reconnects. */
  readonly wantedNick: string | undefined;
  readonly buffers: readonly ChatBuffer[];
  /** Key of the buffer shown. */
  readonly active: string;
  readonly input: InputLine;
  readonly history: History;
  readonly completion: Completion | undefined;
  readonly connection: Connection;
  readonly outbox: readonly QueuedMessage[];
  readonly pendingPaste: PendingPaste | undefined;
  readonly nextSeq: number;
  readonly nextQueueId: number;
  /** Lines kept per buffer; older ones are dropped. */
  readonly maxLines: number;
  /** The user asked to quit. */
  readonly quitting: boolean;
  /** Rows of the message pane, as last reported by the view (PageUp/PageDown move by it). */
  readonly pageRows: number;
  /** Time of the latest action that carried one, ms since the epoch (0 before any). */
  readonly now: number;
}

/** Key names as the view reports them (blessed's `key.full`: `C-w`, `M-b`, `left`, ...). */
export interface KeyAction {
  readonly type: "key";
  readonly name: string;
  /** The character typed, for printable keys. */
  readonly ch?: string | undefined;
  /** When the key was pressed (ms since the epoch), to time lines it adds. */
  readonly now?: number | undefined;
}

/** Everything that can change the state. */
export type Action =
  | KeyAction
  | { readonly type: "paste"; readonly text: string; readonly now?: number | undefined }
  | { readonly type: "scroll"; readonly lines: number }
  | { readonly type: "resize"; readonly pageRows: number }
  | { readonly type: "connection"; readonly status: ConnectionStatus; readonly now: number }
  | {
      readonly type: "reconnecting";
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: ShownError | undefined;
      readonly now: number;
    }
  | { readonly type: "connect-failed"; readonly error: ShownError; readonly now: number }
  | { readonly type: "closed"; readonly error: ShownError | undefined; readonly now: number }
  | { readonly type: "frame"; readonly frame: IncomingFrame; readonly now: number }
  | { readonly type: "lag"; readonly ms: number }
  | {
      readonly type: "request-failed";
      readonly error: ShownError;
      readonly bufferKey: string;
      readonly now: number;
      /** Set when the failed request was a queued message. */
      readonly queueId?: number | undefined;
      /** The text of a message that was not sent, so the error can show it. */
      readonly text?: string | undefined;
    }
  | { readonly type: "queued-sent"; readonly queueId: number }
  | {
      readonly type: "dm-sent";
      readonly to: string;
      readonly text: string;
      readonly id: string | undefined;
      readonly ts: number;
    }
  | { readonly type: "local-info"; readonly text: string; readonly now: number }
  /** A history or search request was answered (its messages came before); or it failed. */
  | {
      readonly type: "history-done";
      readonly bufferKey: string;
      readonly now: number;
      readonly error?: ShownError | undefined;
    }
  /** The server sent a line that is not a valid frame (or too long): logged in the status tab. */
  | { readonly type: "protocol-error"; readonly error: ShownError; readonly now: number }
  | { readonly type: "quit"; readonly reason: string | undefined };

/** What the reducer asks the outside world to do. */
export type Effect =
  | {
      readonly type: "send";
      readonly room: string;
      readonly text: string;
      readonly action: boolean;
      readonly queueId?: number;
    }
  | { readonly type: "dm"; readonly to: string; readonly text: string; readonly queueId?: number }
  | { readonly type: "join"; readonly room: string }
  | { readonly type: "part"; readonly room: string }
  | { readonly type: "nick"; readonly nick: string }
  | { readonly type: "who"; readonly room: string; readonly show?: boolean }
  | { readonly type: "rooms" }
  | {
      readonly type: "history";
      readonly bufferKey: string;
      /** The room, or the nick of a direct-message buffer. */
      readonly target: string;
      readonly dm: boolean;
      readonly query: HistoryQueryFields;
    }
  | {
      readonly type: "search";
      readonly bufferKey: string;
      readonly room: string;
      readonly text: string;
    }
  | { readonly type: "register"; readonly password: string }
  | { readonly type: "login"; readonly name: string; readonly password: string }
  | { readonly type: "ping" }
  | { readonly type: "operator"; readonly request: OperatorRequest }
  | { readonly type: "quit"; readonly reason: string | undefined };

/** An operator's request, parsed by core as the server parses the same text command. */
export type OperatorRequest = Extract<ClientFrame, { type: "kick" | "ban" | "unban" | "topic" }>;

/** The fields of a `history` request besides its target (spec 4.4: IRCv3 chathistory). */
export interface HistoryQueryFields {
  readonly dir?: "latest" | "before" | "after" | "around";
  readonly id?: string;
  readonly ts?: number;
  readonly limit?: number;
}

/** Server frames the TUI reacts to (spec section 4.2). */
export type IncomingFrame = ServerFrame;
