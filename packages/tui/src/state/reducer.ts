/**
 * The TUI's reducer: `(state, action) -> { state, effects }`. Pure: no I/O, no clock (actions
 * carry `now`), no terminal. The controller runs the effects against the ChatClient and the
 * view draws the state.
 */
import {
  activeBuffer,
  appendLine,
  foldName,
  newBuffer,
  STATUS_KEY,
  switchTo,
  updateBuffer,
} from "./buffers.js";
import { COMMAND_NAMES } from "./commands.js";
import { complete } from "./completion.js";
import { onClosed, onConnection, onReconnecting } from "./connection.js";
import { onFrame } from "./frames.js";
import { browse, EMPTY_HISTORY } from "./history.js";
import { type EditOp, EMPTY_INPUT, edit, insertText } from "./input.js";
import { KEYMAP } from "./keymap.js";
import { errorLine, only, type Reduction } from "./reduction.js";
import { onHistoryDone, requestOlder } from "./scrollback.js";
import { dropQueued, onDmSent, onRequestFailed, quit, say, submit } from "./submit.js";
import type { Action, AppState, ChatBuffer, Effect, KeyAction } from "./types.js";

export type { Reduction } from "./reduction.js";
export { OUTBOX_LIMIT } from "./submit.js";

/** Lines kept per buffer unless told otherwise. */
export const DEFAULT_MAX_LINES = 5000;

/** Options of {@link initialState}. */
export interface InitialStateOptions {
  /** `host:port`, shown in the status bar. */
  server: string;
  /** Nick asked for; kept across reconnects. */
  nick?: string | undefined;
  /** Lines kept per buffer (default {@link DEFAULT_MAX_LINES}). */
  maxLines?: number;
}

/** The state before connecting: just the status buffer. */
export function initialState(options: InitialStateOptions): AppState {
  const buffers: ChatBuffer[] = [newBuffer("status", "status")];
  return {
    server: options.server,
    nick: undefined,
    wantedNick: options.nick,
    buffers,
    active: STATUS_KEY,
    input: EMPTY_INPUT,
    history: EMPTY_HISTORY,
    completion: undefined,
    connection: {
      status: "idle",
      attempt: 0,
      retryAt: undefined,
      lastError: undefined,
      lagMs: undefined,
    },
    outbox: [],
    pendingPaste: undefined,
    nextSeq: 1,
    nextQueueId: 1,
    maxLines: options.maxLines ?? DEFAULT_MAX_LINES,
    quitting: false,
    pageRows: 20,
    now: 0,
  };
}

/** Applies one action: the next state, and the effects for the controller to run. */
export function reduce(previous: AppState, action: Action): Reduction {
  const state =
    "now" in action && action.now !== undefined && action.now !== previous.now
      ? { ...previous, now: action.now }
      : previous;
  switch (action.type) {
    case "key":
      return onKey(state, action);
    case "paste":
      return onPaste(state, action.text);
    case "scroll":
      return only(scrollBy(state, action.lines));
    case "resize":
      return only({ ...state, pageRows: Math.max(1, action.pageRows) });
    case "connection":
      return onConnection(state, action.status, action.now);
    case "reconnecting":
      return onReconnecting(state, action);
    case "connect-failed":
    case "closed":
      return onClosed(state, action.error, action.now, action.type === "connect-failed");
    case "frame":
      return onFrame(state, action.frame, action.now);
    case "lag":
      return only({ ...state, connection: { ...state.connection, lagMs: action.ms } });
    case "request-failed":
      return only(onRequestFailed(state, action));
    case "queued-sent":
      return only(dropQueued(state, action.queueId));
    case "dm-sent":
      return only(onDmSent(state, action));
    case "quit":
      return state.quitting ? only(state) : quit(state, action.reason);
    case "history-done":
      return onHistoryDone(state, action.bufferKey, action.now, action.error);
    case "local-info":
      return only(
        appendLine(state, state.active, { ts: action.now, kind: "info", text: action.text }),
      );
    case "protocol-error":
      // The conversation goes on: the status tab keeps the record without interrupting it.
      return only(appendLine(state, STATUS_KEY, errorLine(action.error, action.now)));
  }
}

// ---- keys -----------------------------------------------------------------------------------

function onKey(state: AppState, action: KeyAction): Reduction {
  if (state.pendingPaste) return onPasteAnswer(state, action);
  const command = KEYMAP[action.name];
  // Any key but Tab ends a completion cycle.
  const base = command === "complete" ? state : { ...state, completion: undefined };
  if (command === undefined) {
    if (action.ch !== undefined && action.ch !== "" && !/^[\x00-\x1f\x7f]/.test(action.ch)) {
      return only({ ...base, input: insertText(base.input, action.ch) });
    }
    return only(base);
  }
  switch (command) {
    case "submit":
      return submit(base);
    case "historyBack":
    case "historyForward": {
      const moved = browse(base.history, command === "historyBack" ? -1 : 1, base.input.text);
      if (!moved) return only(base);
      return only({
        ...base,
        history: moved.history,
        input: { text: moved.text, cursor: moved.text.length },
      });
    }
    case "complete":
      return only(onComplete(base));
    case "pageUp": {
      const next = scrollBy(base, Math.max(1, base.pageRows - 1));
      const buffer = activeBuffer(next);
      // The top line is in view: fetch the page before it now, so the next PageUp shows it.
      if (buffer.scroll + next.pageRows >= buffer.lines.length) {
        return requestOlder(next, buffer.key);
      }
      return only(next);
    }
    case "pageDown":
      return only(scrollBy(base, -Math.max(1, base.pageRows - 1)));
    case "scrollBottom":
      return only(scrollBy(base, -Number.MAX_SAFE_INTEGER));
    case "nextTab":
    case "previousTab": {
      const index = base.buffers.findIndex((b) => b.key === base.active);
      const step = command === "nextTab" ? 1 : -1;
      const target = base.buffers[(index + step + base.buffers.length) % base.buffers.length]!;
      return only(switchTo(base, target.key));
    }
    case "interrupt":
      if (base.input.text !== "") return only({ ...base, input: EMPTY_INPUT });
      return quit(base, undefined);
    case "eof":
      if (base.input.text === "") return quit(base, undefined);
      return only({ ...base, input: edit(base.input, "delete") });
    case "cancel":
      return only(base);
    default:
      if (command.startsWith("tab")) {
        const target = base.buffers[Number(command.slice(3)) - 1];
        return only(target ? switchTo(base, target.key) : base);
      }
      return only({ ...base, input: edit(base.input, command as EditOp) });
  }
}

function onComplete(state: AppState): AppState {
  const buffer = activeBuffer(state);
  const nicks = buffer.kind === "dm" ? [buffer.name] : buffer.members;
  const result = complete(state.input, state.completion, {
    commands: COMMAND_NAMES,
    nicks: recentSpeakersFirst(buffer, nicks),
    ownNick: state.nick,
  });
  if (!result) return state;
  return { ...state, input: result.input, completion: result.completion };
}

/** Nicks ordered by who spoke last (like irssi), then the rest alphabetically. */
function recentSpeakersFirst(buffer: ChatBuffer, nicks: readonly string[]): string[] {
  const present = new Map(nicks.map((n) => [foldName(n), n]));
  const ordered: string[] = [];
  for (let i = buffer.lines.length - 1; i >= 0 && ordered.length < present.size; i--) {
    const nick = buffer.lines[i]!.nick;
    if (nick === undefined) continue;
    const key = foldName(nick);
    const name = present.get(key);
    if (name !== undefined && !ordered.includes(name)) ordered.push(name);
  }
  const rest = nicks.filter((n) => !ordered.includes(n)).sort((a, b) => a.localeCompare(b));
  return [...ordered, ...rest];
}

function scrollBy(state: AppState, lines: number): AppState {
  return updateBuffer(state, state.active, (b) => {
    const scroll = Math.max(0, Math.min(b.lines.length - 1, b.scroll + lines));
    return scroll === b.scroll ? b : { ...b, scroll };
  });
}

// ---- paste ----------------------------------------------------------------------------------

function onPaste(state: AppState, text: string): Reduction {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === "") lines.pop();
  if (lines.length <= 1) return only({ ...state, input: insertText(state.input, lines[0] ?? "") });
  const nonBlank = lines.filter((l) => l.trim() !== "");
  return only({ ...state, pendingPaste: { lines: nonBlank, bufferKey: state.active } });
}

function onPasteAnswer(state: AppState, action: KeyAction): Reduction {
  const paste = state.pendingPaste!;
  const answer = action.ch?.toLowerCase();
  if (answer === "y" || action.name === "enter") {
    let next: AppState = switchTo({ ...state, pendingPaste: undefined }, paste.bufferKey);
    const effects: Effect[] = [];
    for (const line of paste.lines) {
      const said = say(next, line, false);
      next = said.state;
      effects.push(...said.effects);
    }
    return { state: next, effects };
  }
  if (answer === "n" || action.name === "escape" || action.name === "C-c") {
    const next = { ...state, pendingPaste: undefined };
    return only(
      appendLine(next, state.active, {
        ts: state.now,
        kind: "info",
        text: `Paste of ${paste.lines.length} lines cancelled.`,
      }),
    );
  }
  return only(state);
}
