/**
 * The TUI's reducer: `(state, action) -> { state, effects }`. Pure: no I/O, no clock (actions
 * carry `now`), no terminal. The controller runs the effects against the ChatClient and the
 * view draws the state.
 */
import { ERROR_CODES } from "@tcpchat/core";
import {
  activeBuffer,
  appendLine,
  bareRoom,
  dmKey,
  ensureBuffer,
  findBuffer,
  foldName,
  type NewLine,
  newBuffer,
  roomKey,
  STATUS_KEY,
  switchTo,
  updateBuffer,
} from "./buffers.js";
import { COMMAND_NAMES, COMMANDS, firstWord, parseSubmit } from "./commands.js";
import { complete } from "./completion.js";
import { browse, EMPTY_HISTORY, remember } from "./history.js";
import { type EditOp, EMPTY_INPUT, edit, insertText } from "./input.js";
import { KEYMAP } from "./keymap.js";
import type {
  Action,
  AppState,
  ChatBuffer,
  Effect,
  IncomingFrame,
  KeyAction,
  ShownError,
  Target,
} from "./types.js";

/** The reducer's answer: the next state and what to do. */
export interface Reduction {
  readonly state: AppState;
  readonly effects: readonly Effect[];
}

/** Lines kept per buffer unless told otherwise. */
export const DEFAULT_MAX_LINES = 5000;
/** Most messages held while disconnected; past that, typing is refused visibly. */
export const OUTBOX_LIMIT = 100;

/** Options of {@link initialState}. */
export interface InitialStateOptions {
  /** `host:port`, shown in the status bar. */
  server: string;
  nick?: string | undefined;
  room?: string | undefined;
  /** Lines kept per buffer (default {@link DEFAULT_MAX_LINES}). */
  maxLines?: number;
}

/** The state before connecting: a status buffer, and the room to join if one was given. */
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
  };
}

const NONE: readonly Effect[] = [];

function only(state: AppState): Reduction {
  return { state, effects: NONE };
}

/** Applies one action. */
export function reduce(state: AppState, action: Action): Reduction {
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
    case "local-info":
      return only(
        appendLine(state, state.active, { ts: action.now, kind: "info", text: action.text }),
      );
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
    case "pageUp":
      return only(scrollBy(base, Math.max(1, base.pageRows - 1)));
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
        ts: 0,
        kind: "info",
        text: `Paste of ${paste.lines.length} lines cancelled.`,
      }),
    );
  }
  return only(state);
}

// ---- submit and commands --------------------------------------------------------------------

function submit(state: AppState): Reduction {
  const line = state.input.text;
  const next: AppState = {
    ...state,
    input: EMPTY_INPUT,
    history: remember(state.history, line),
    completion: undefined,
  };
  const intent = parseSubmit(line);
  switch (intent.type) {
    case "none":
      return only(state);
    case "say":
      return say(next, intent.text, false);
    case "unknown":
      return only(
        showError(next, {
          code: "CHAT_ERR_UNKNOWN_COMMAND",
          message: `There is no /${intent.name} command.`,
          hint: ERROR_CODES.CHAT_ERR_UNKNOWN_COMMAND.hint,
        }),
      );
    case "command":
      return runCommand(next, intent.name, intent.args);
  }
}

function usage(state: AppState, name: keyof typeof COMMANDS): Reduction {
  return only(
    showError(state, {
      code: "CHAT_ERR_BAD_ARGUMENT",
      message: `Usage: ${COMMANDS[name].split("  ")[0]}`,
      hint: ERROR_CODES.CHAT_ERR_BAD_ARGUMENT.hint,
    }),
  );
}

function runCommand(state: AppState, name: keyof typeof COMMANDS, args: string): Reduction {
  const buffer = activeBuffer(state);
  switch (name) {
    case "join": {
      const [room] = firstWord(args);
      if (room === "") return usage(state, name);
      let next = ensureBuffer(state, "room", room);
      next = updateBuffer(next, roomKey(room), (b) => ({ ...b, joined: true }));
      next = switchTo(next, roomKey(room));
      return { state: next, effects: online(next) ? [{ type: "join", room: bareRoom(room) }] : [] };
    }
    case "part": {
      const [given] = firstWord(args);
      const room = given !== "" ? bareRoom(given) : buffer.kind === "room" ? buffer.name : "";
      if (room === "") return usage(state, name);
      return leaveRoom(state, room);
    }
    case "close": {
      if (buffer.kind === "status") return only(state);
      if (buffer.kind === "room" && buffer.joined) {
        const left = leaveRoom(state, buffer.name);
        return { state: closeBuffer(left.state, buffer.key), effects: left.effects };
      }
      return only(closeBuffer(state, buffer.key));
    }
    case "msg": {
      const [to, text] = firstWord(args);
      if (to === "" || text === "") return usage(state, name);
      const next = ensureBuffer(state, "dm", to);
      return deliver(next, { dm: to }, text, false);
    }
    case "query": {
      const [to, text] = firstWord(args);
      if (to === "") return usage(state, name);
      const next = switchTo(ensureBuffer(state, "dm", to), dmKey(to));
      return text === "" ? only(next) : deliver(next, { dm: to }, text, false);
    }
    case "me":
      if (args === "") return usage(state, name);
      return say(state, args, true);
    case "nick": {
      const [nick] = firstWord(args);
      if (nick === "") return usage(state, name);
      if (!online(state)) return only({ ...state, wantedNick: nick });
      return { state, effects: [{ type: "nick", nick }] };
    }
    case "who": {
      const [given] = firstWord(args);
      const room = given !== "" ? bareRoom(given) : buffer.kind === "room" ? buffer.name : "";
      if (room === "") return usage(state, name);
      return requireOnline(state, { type: "who", room, show: true });
    }
    case "rooms":
      return requireOnline(state, { type: "rooms" });
    case "clear":
      return only(updateBuffer(state, buffer.key, (b) => ({ ...b, lines: [], scroll: 0 })));
    case "help": {
      let next = state;
      for (const text of Object.values(COMMANDS)) {
        next = appendLine(next, next.active, { ts: 0, kind: "info", text });
      }
      return only(next);
    }
    case "quit":
      return quit(state, args === "" ? undefined : args);
  }
}

function online(state: AppState): boolean {
  return state.connection.status === "open" && state.nick !== undefined;
}

function requireOnline(state: AppState, effect: Effect): Reduction {
  if (online(state)) return { state, effects: [effect] };
  return only(showError(state, notConnected()));
}

function notConnected(): ShownError {
  return {
    code: "CHAT_ERR_NOT_CONNECTED",
    message: "Not connected.",
    hint: "Wait for the reconnect to finish; messages typed now are queued.",
  };
}

function leaveRoom(state: AppState, room: string): Reduction {
  const next = updateBuffer(state, roomKey(room), (b) => ({ ...b, joined: false, members: [] }));
  return { state: next, effects: online(state) ? [{ type: "part", room }] : [] };
}

function closeBuffer(state: AppState, key: string): AppState {
  const index = state.buffers.findIndex((b) => b.key === key);
  if (index < 0) return state;
  const fallback = state.buffers[index - 1] ?? state.buffers[0]!;
  const moved = state.active === key ? switchTo(state, fallback.key) : state;
  return { ...moved, buffers: moved.buffers.filter((b) => b.key !== key) };
}

function quit(state: AppState, reason: string | undefined): Reduction {
  return { state: { ...state, quitting: true }, effects: [{ type: "quit", reason }] };
}

/** Sends text to the shown buffer's room or nick. */
function say(state: AppState, text: string, action: boolean): Reduction {
  const buffer = activeBuffer(state);
  if (buffer.kind === "status") {
    return only(
      showError(state, {
        code: "CHAT_ERR_NOT_IN_ROOM",
        message: "This is the status tab: messages go to a room or a person.",
        hint: "Switch tabs with Ctrl+N, or /join ROOM, or /msg NICK TEXT.",
      }),
    );
  }
  if (buffer.kind === "dm") {
    return deliver(
      state,
      { dm: buffer.name },
      action ? `* ${state.nick ?? ""} ${text}` : text,
      false,
    );
  }
  if (!buffer.joined) {
    return only(
      showError(state, {
        code: "CHAT_ERR_NOT_IN_ROOM",
        message: `You are not in #${buffer.name}.`,
        hint: `Join it again with /join ${buffer.name}.`,
      }),
    );
  }
  return deliver(state, { room: buffer.name }, text, action);
}

/** Sends now when online; queues (visibly) when not; refuses (visibly) when the queue is full. */
function deliver(state: AppState, target: Target, text: string, action: boolean): Reduction {
  const key = "room" in target ? roomKey(target.room) : dmKey(target.dm);
  if (online(state)) {
    const effect: Effect =
      "room" in target
        ? { type: "send", room: target.room, text, action }
        : { type: "dm", to: target.dm, text };
    return { state, effects: [effect] };
  }
  if (state.outbox.length >= OUTBOX_LIMIT) {
    return only(
      appendLine(state, key, {
        ts: 0,
        kind: "error",
        code: "CHAT_ERR_NOT_CONNECTED",
        text: `Not sent (${OUTBOX_LIMIT} messages are already waiting): ${text}`,
        hint: "Wait for the connection to come back, then send it again.",
      }),
    );
  }
  const lineSeq = state.nextSeq;
  const next = appendLine(state, key, {
    ts: 0,
    kind: "queued",
    nick: state.nick ?? state.wantedNick,
    text: action ? `* ${text}` : text,
  });
  const queued = { id: state.nextQueueId, target, text, action, lineSeq, sending: false };
  return only({ ...next, outbox: [...next.outbox, queued], nextQueueId: queued.id + 1 });
}

const RETRYABLE = new Set([
  "CHAT_ERR_NOT_CONNECTED",
  "CHAT_ERR_CONN_CLOSED",
  "CHAT_ERR_CONN_RESET",
]);

function dropQueued(state: AppState, queueId: number): AppState {
  const item = state.outbox.find((q) => q.id === queueId);
  if (!item) return state;
  const key = "room" in item.target ? roomKey(item.target.room) : dmKey(item.target.dm);
  const next = updateBuffer(state, key, (b) => ({
    ...b,
    lines: b.lines.filter((l) => l.seq !== item.lineSeq),
  }));
  return { ...next, outbox: next.outbox.filter((q) => q.id !== queueId) };
}

function onRequestFailed(
  state: AppState,
  action: Extract<Action, { type: "request-failed" }>,
): AppState {
  let next = state;
  if (action.queueId !== undefined) {
    const item = state.outbox.find((q) => q.id === action.queueId);
    // Lost with the connection: keep it queued for the next one rather than drop it.
    if (item && RETRYABLE.has(action.error.code)) {
      return {
        ...state,
        outbox: state.outbox.map((q) => (q.id === item.id ? { ...q, sending: false } : q)),
      };
    }
    next = dropQueued(state, action.queueId);
    if (item) {
      return appendLine(next, action.bufferKey, {
        ts: action.now,
        kind: "error",
        code: action.error.code,
        text: `Not sent: ${item.text} (${action.error.message})`,
        hint: action.error.hint,
      });
    }
  }
  const key = findBuffer(next, action.bufferKey) ? action.bufferKey : next.active;
  const line = errorLine(action.error, action.now);
  if (action.text === undefined) return appendLine(next, key, line);
  // Say which message was lost, so it can be sent again.
  return appendLine(next, key, { ...line, text: `${line.text} Not sent: ${action.text}` });
}

function onDmSent(state: AppState, action: Extract<Action, { type: "dm-sent" }>): AppState {
  const key = dmKey(action.to);
  const next = ensureBuffer(state, "dm", action.to);
  const buffer = findBuffer(next, key)!;
  // The server may echo the DM as a frame too; show it once.
  if (action.id !== undefined && buffer.lines.some((l) => l.id === action.id)) return next;
  return appendLine(next, key, {
    ts: action.ts,
    kind: "message",
    nick: next.nick,
    text: action.text,
    id: action.id,
  });
}

// ---- connection -----------------------------------------------------------------------------

function errorLine(error: ShownError, now: number): NewLine {
  return { ts: now, kind: "error", code: error.code, text: error.message, hint: error.hint };
}

function showError(state: AppState, error: ShownError, now = 0): AppState {
  return appendLine(state, state.active, errorLine(error, now));
}

/** Adds a line to the shown buffer and, if that is not the status buffer, there too. */
function announce(state: AppState, line: NewLine): AppState {
  const next = appendLine(state, state.active, line);
  return state.active === STATUS_KEY ? next : appendLine(next, STATUS_KEY, line);
}

function onConnection(
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

function onReconnecting(
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
    next = announce(next, {
      ts: action.now,
      kind: "info",
      text: "Reconnecting automatically; what you type meanwhile is queued and sent once back.",
    });
  }
  return only(next);
}

function onClosed(
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

// ---- frames ---------------------------------------------------------------------------------

function mentions(text: string, nick: string | undefined): boolean {
  if (nick === undefined || nick === "") return false;
  return foldName(text).includes(foldName(nick));
}

function onFrame(state: AppState, frame: IncomingFrame, now: number): Reduction {
  switch (frame.type) {
    case "welcome":
      return onWelcome(state, frame, now);
    case "message": {
      let next = ensureBuffer(state, "room", frame.room);
      const own = state.nick !== undefined && foldName(frame.from) === foldName(state.nick);
      next = appendLine(next, roomKey(frame.room), {
        ts: frame.ts,
        kind: frame.action ? "action" : "message",
        nick: frame.from,
        text: frame.text,
        id: frame.id,
        highlight: !own && mentions(frame.text, state.nick),
      });
      return only(next);
    }
    case "dm": {
      const own = state.nick !== undefined && foldName(frame.from) === foldName(state.nick);
      const other = own ? frame.to : frame.from;
      const key = dmKey(other);
      let next = ensureBuffer(state, "dm", other);
      if (findBuffer(next, key)!.lines.some((l) => l.id === frame.id)) return only(next);
      next = appendLine(next, key, {
        ts: frame.ts,
        kind: "message",
        nick: frame.from,
        text: frame.text,
        id: frame.id,
        highlight: !own,
      });
      return only(next);
    }
    case "join": {
      const key = roomKey(frame.room);
      let next = updateBuffer(state, key, (b) => ({
        ...b,
        members: addMember(b.members, frame.nick),
      }));
      next = appendLine(next, key, {
        ts: frame.ts,
        kind: "event",
        text: `--> ${frame.nick} joined #${bareRoom(frame.room)}`,
      });
      return only(next);
    }
    case "part": {
      const key = roomKey(frame.room);
      const self = state.nick !== undefined && foldName(frame.nick) === foldName(state.nick);
      let next = updateBuffer(state, key, (b) => ({
        ...b,
        members: self ? [] : b.members.filter((m) => foldName(m) !== foldName(frame.nick)),
        joined: self ? false : b.joined,
      }));
      const reason = frame.reason ? ` (${frame.reason})` : "";
      next = appendLine(next, key, {
        ts: frame.ts,
        kind: "event",
        text: `<-- ${frame.nick} left #${bareRoom(frame.room)}${reason}`,
      });
      return only(next);
    }
    case "crowd": {
      const key = roomKey(frame.room);
      const next = appendLine(state, key, {
        ts: frame.ts,
        kind: "event",
        text: `--> ${frame.joined} joined, ${frame.left} left in the last ${Math.round(frame.windowMs / 1000)}s`,
      });
      // The summary names nobody: ask for the member list again.
      return {
        state: next,
        effects: online(state) ? [{ type: "who", room: bareRoom(frame.room) }] : [],
      };
    }
    case "nick":
      return only(onNick(state, frame, now));
    case "presence": {
      const sorted = [...frame.nicks].sort((a, b) => a.localeCompare(b));
      return only(updateBuffer(state, roomKey(frame.room), (b) => ({ ...b, members: sorted })));
    }
    case "rooms": {
      const list = frame.rooms.map((r) => `#${r.name} (${r.members})`).join(", ");
      return only(
        appendLine(state, state.active, {
          ts: now,
          kind: "info",
          text: `Rooms: ${list === "" ? "none" : list}`,
        }),
      );
    }
    case "error":
      // The client reports every error frame separately (a rejected request, or
      // "server-error"), so showing them here too would show them twice.
      return only(state);
    case "notice":
      return only(appendLine(state, state.active, { ts: now, kind: "info", text: frame.text }));
    case "shutdown":
      return only(
        announce(state, {
          ts: now,
          kind: "error",
          code: "CHAT_ERR_SERVER_SHUTDOWN",
          text: `The server is shutting down: ${frame.reason}`,
          hint: "The TUI reconnects by itself when the server is back.",
        }),
      );
    default:
      return only(state);
  }
}

function addMember(members: readonly string[], nick: string): string[] {
  if (members.some((m) => foldName(m) === foldName(nick))) return [...members];
  return [...members, nick].sort((a, b) => a.localeCompare(b));
}

function onNick(
  state: AppState,
  frame: Extract<IncomingFrame, { type: "nick" }>,
  now: number,
): AppState {
  const oldKey = foldName(frame.old);
  const self = state.nick !== undefined && foldName(state.nick) === oldKey;
  let next: AppState = self ? { ...state, nick: frame.new, wantedNick: frame.new } : state;
  const text = self
    ? `*** You are now known as ${frame.new}`
    : `*** ${frame.old} is now known as ${frame.new}`;
  for (const buffer of state.buffers) {
    const inRoom = buffer.members.some((m) => foldName(m) === oldKey);
    const isDm = buffer.kind === "dm" && foldName(buffer.name) === oldKey;
    if (!inRoom && !isDm && !(self && buffer.key === state.active)) continue;
    next = updateBuffer(next, buffer.key, (b) => ({
      ...b,
      members: inRoom
        ? addMember(
            b.members.filter((m) => foldName(m) !== oldKey),
            frame.new,
          )
        : b.members,
    }));
    next = appendLine(next, buffer.key, { ts: frame.ts ?? now, kind: "event", text });
  }
  return next;
}

function onWelcome(
  state: AppState,
  frame: Extract<IncomingFrame, { type: "welcome" }>,
  now: number,
): Reduction {
  const reconnect = state.nick !== undefined;
  const previousNick = state.nick;
  let next = ensureBuffer({ ...state, nick: frame.nick }, "room", frame.room);
  const welcomeKey = roomKey(frame.room);
  next = updateBuffer(next, welcomeKey, (b) => ({ ...b, joined: true }));
  if (next.active === STATUS_KEY && !reconnect) next = switchTo(next, welcomeKey);
  next = {
    ...next,
    connection: { ...next.connection, status: "open", attempt: 0, retryAt: undefined },
  };
  next = announce(next, {
    ts: now,
    kind: "info",
    text: `Connected to ${state.server} as ${frame.nick} (#${frame.room}).`,
  });
  const effects: Effect[] = [{ type: "who", room: frame.room }];
  // After a reconnect the new session is only in the welcome room: rejoin the others.
  for (const b of next.buffers) {
    if (b.kind === "room" && b.joined && b.key !== welcomeKey) {
      effects.push({ type: "join", room: b.name });
    }
  }
  const wanted = state.wantedNick ?? previousNick;
  if (wanted !== undefined && foldName(wanted) !== foldName(frame.nick)) {
    effects.push({ type: "nick", nick: wanted });
  }
  // Flush what was typed while offline, in order.
  const outbox = next.outbox.map((q) => ({ ...q, sending: true }));
  for (const q of next.outbox) {
    if (q.sending) continue;
    effects.push(
      "room" in q.target
        ? { type: "send", room: q.target.room, text: q.text, action: q.action, queueId: q.id }
        : { type: "dm", to: q.target.dm, text: q.text, queueId: q.id },
    );
  }
  return { state: { ...next, outbox }, effects };
}
