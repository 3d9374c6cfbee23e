/** Shared pieces of the reducer: its result type and helpers that add lines. */
import { appendLine, type NewLine, STATUS_KEY } from "./buffers.js";
import type { AppState, Effect, ShownError } from "./types.js";

/** The reducer's answer: the next state and what to do. */
export interface Reduction {
  readonly state: AppState;
  readonly effects: readonly Effect[];
}

const NONE: readonly Effect[] = [];

/** A reduction with no effects. */
export function only(state: AppState): Reduction {
  return { state, effects: NONE };
}

/** Whether requests can go out now. */
export function online(state: AppState): boolean {
  return state.connection.status === "open" && state.nick !== undefined;
}

/** An error as a line. */
export function errorLine(error: ShownError, now: number): NewLine {
  return { ts: now, kind: "error", code: error.code, text: error.message, hint: error.hint };
}

/** Shows an error in the shown buffer. */
export function showError(state: AppState, error: ShownError, now = state.now): AppState {
  return appendLine(state, state.active, errorLine(error, now));
}

/** Adds a line to the shown buffer and, if that is not the status buffer, there too. */
export function announce(state: AppState, line: NewLine): AppState {
  const next = appendLine(state, state.active, line);
  return state.active === STATUS_KEY ? next : appendLine(next, STATUS_KEY, line);
}
