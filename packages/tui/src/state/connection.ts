/** Connection changes: connecting, reconnect countdown, closed, with errors and their hints. */
import { appendLine, STATUS_KEY } from "./buffers.js";
import { announce, errorLine, only, type Reduction } from "./reduction.js";
import type { Action, AppState, ShownError } from "./types.js";

/** The client's state changed. */
export function onConnection(
  state: AppState,
  status: AppState["connection"]["status"],
  now: number,
): Reduction {
  const connection = {
    ...state.connection,
    status,
    retryAt: status === "reconnecting" ? state.connection.retryAt : undefined,
    attempt: status === "open" ? 0 : state.connection.attempt,
  };
  let next: AppState = { ...state, connection };
  // Announce the first attempt only: the status bar follows the retries.
  if (status === "connecting" && state.connection.status === "idle") {
    next = appendLine(next, STATUS_KEY, {
      ts: now,
      kind: "info",
      text: `Connecting to ${state.server}...`,
    });
  }
  return only(next);
}

/**
 * What the TUI does about a lost connection, as a hint. Core's hints for these codes tell the
 * user to reconnect ("Reconnect.", "Reconnect later."), which the TUI does by itself.
 */
export const SELF_RECONNECT_HINT =
  "The TUI reconnects by itself; what you type meanwhile is queued and sent once it is back.";

const SELF_RECONNECT_CODES: ReadonlySet<string> = new Set([
  "CHAT_ERR_CONN_CLOSED",
  "CHAT_ERR_CONN_RESET",
  "CHAT_ERR_PING_TIMEOUT",
  "CHAT_ERR_SERVER_SHUTDOWN",
]);

/**
 * The error as shown while the TUI retries: hints that tell the user to reconnect, or (once
 * the server was reached before) to check that it runs and the port is right, give way to
 * what the TUI is doing about it. A first connection that fails keeps core's hint: then the
 * address may well be wrong.
 */
export function whileRetrying(error: ShownError, wasOnline: boolean): ShownError {
  if (SELF_RECONNECT_CODES.has(error.code)) return { ...error, hint: SELF_RECONNECT_HINT };
  if (wasOnline) {
    return {
      ...error,
      hint: "The server is not back yet; the TUI keeps trying. What you type meanwhile is queued.",
    };
  }
  return error;
}

/** A retry is scheduled: count down to it, and show a new kind of failure once. */
export function onReconnecting(
  state: AppState,
  action: Extract<Action, { type: "reconnecting" }>,
): Reduction {
  const previous = state.connection.lastError;
  // The connection closing right after the server announced its shutdown is no news.
  const announced =
    previous?.code === "CHAT_ERR_SERVER_SHUTDOWN" &&
    (action.error?.code === "CHAT_ERR_CONN_CLOSED" || action.error?.code === "CHAT_ERR_CONN_RESET");
  const connection = {
    ...state.connection,
    status: "reconnecting" as const,
    attempt: action.attempt,
    retryAt: action.now + action.delayMs,
    lastError: announced ? previous : (action.error ?? previous),
  };
  let next: AppState = { ...state, connection };
  // One line per distinct failure, not one per retry: the status bar shows the countdown.
  if (action.error && !announced && (action.attempt <= 1 || action.error.code !== previous?.code)) {
    const shown = whileRetrying(action.error, state.nick !== undefined);
    next = announce(next, errorLine(shown, action.now));
    if (action.attempt <= 1 && shown.hint === action.error.hint) {
      next = announce(next, {
        ts: action.now,
        kind: "info",
        text: "Reconnecting automatically; what you type meanwhile is queued and sent once back.",
      });
    }
  }
  return only(next);
}

/** The connection is over for good (or never came up). */
export function onClosed(
  state: AppState,
  error: ShownError | undefined,
  now: number,
  failedToConnect: boolean,
): Reduction {
  const connection = {
    ...state.connection,
    status: "closed" as const,
    retryAt: undefined,
    lastError: error ?? state.connection.lastError,
  };
  let next: AppState = { ...state, connection };
  if (error) next = announce(next, errorLine(error, now));
  else if (!state.quitting) next = announce(next, { ts: now, kind: "info", text: "Disconnected." });
  if (failedToConnect && !error)
    next = announce(next, { ts: now, kind: "info", text: "Could not connect." });
  return only(next);
}
