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

/** A retry is scheduled: count down to it, and show a new kind of failure once. */
export function onReconnecting(
  state: AppState,
  action: Extract<Action, { type: "reconnecting" }>,
): Reduction {
  const previous = state.connection.lastError;
  const connection = {
    ...state.connection,
    status: "reconnecting" as const,
    attempt: action.attempt,
    retryAt: action.now + action.delayMs,
    lastError: action.error ?? previous,
  };
  let next: AppState = { ...state, connection };
  // One line per distinct failure, not one per retry: the status bar shows the countdown.
  if (action.error && (action.attempt <= 1 || action.error.code !== previous?.code)) {
    next = announce(next, errorLine(action.error, action.now));
    if (action.attempt <= 1) {
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
