/** What the user submits: messages (sent, or queued while offline) and /commands. */
import { ChatError, type ClientFrame, ERROR_CODES, parseTextLine } from "@tcpchat/core";
import {
  activeBuffer,
  appendLine,
  bareRoom,
  dmKey,
  ensureBuffer,
  findBuffer,
  roomKey,
  switchTo,
  updateBuffer,
} from "./buffers.js";
import { COMMANDS, type CommandName, firstWord, parseSubmit, SECRET_COMMANDS } from "./commands.js";
import { remember } from "./history.js";
import { historyCommand } from "./history-commands.js";
import { EMPTY_INPUT } from "./input.js";
import { errorLine, online, only, type Reduction, showError } from "./reduction.js";
import type { Action, AppState, Effect, OperatorRequest, ShownError, Target } from "./types.js";

/** Most messages held while disconnected; past that, typing is refused visibly. */
export const OUTBOX_LIMIT = 100;

/** Runs what the user typed: a message or a /command. */
export function submit(state: AppState): Reduction {
  const line = state.input.text;
  const intent = parseSubmit(line);
  // A password must not come back with the Up key.
  const secret = intent.type === "command" && SECRET_COMMANDS.has(intent.name);
  const next: AppState = {
    ...state,
    input: EMPTY_INPUT,
    history: secret ? state.history : remember(state.history, line),
    completion: undefined,
  };
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
    case "history":
    case "search":
    case "register":
    case "login":
      return historyCommand(state, name, args);
    case "topic":
    case "kick":
    case "ban":
    case "unban":
      return operatorCommand(state, name, args);
    case "clear":
      return only(
        updateBuffer(state, buffer.key, (b) => ({
          ...b,
          lines: [],
          scroll: 0,
          historyStart: false,
        })),
      );
    case "help": {
      let next = state;
      for (const text of Object.values(COMMANDS)) {
        next = appendLine(next, next.active, { ts: state.now, kind: "info", text });
      }
      return only(next);
    }
    case "quit":
      return quit(state, args === "" ? undefined : args);
  }
}

/**
 * /topic, /kick, /ban and /unban: parsed by core as the server parses them (so both agree on
 * durations and reasons); the server checks who may. A bare /topic asks about this tab's room.
 */
function operatorCommand(state: AppState, name: CommandName, args: string): Reduction {
  const parsed = parseTextLine(args === "" ? `/${name}` : `/${name} ${args}`);
  if (parsed instanceof ChatError) {
    return only(
      showError(state, { code: parsed.code, message: parsed.message, hint: parsed.hint }),
    );
  }
  if (parsed === null || !isOperatorRequest(parsed)) return usage(state, name);
  const buffer = activeBuffer(state);
  const request =
    parsed.type === "topic" && parsed.room === undefined && buffer.kind === "room"
      ? { ...parsed, room: buffer.name }
      : parsed;
  return requireOnline(state, { type: "operator", request });
}

function isOperatorRequest(frame: ClientFrame): frame is OperatorRequest {
  return (
    frame.type === "topic" ||
    frame.type === "kick" ||
    frame.type === "ban" ||
    frame.type === "unban"
  );
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

/** Asks the client to say goodbye; the controller exits when it has. */
export function quit(state: AppState, reason: string | undefined): Reduction {
  return { state: { ...state, quitting: true }, effects: [{ type: "quit", reason }] };
}

/** Sends text to the shown buffer's room or nick. */
export function say(state: AppState, text: string, action: boolean): Reduction {
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
        ts: state.now,
        kind: "error",
        code: "CHAT_ERR_NOT_CONNECTED",
        text: `Not sent (${OUTBOX_LIMIT} messages are already waiting): ${text}`,
        hint: "Wait for the connection to come back, then send it again.",
      }),
    );
  }
  const lineSeq = state.nextSeq;
  const next = appendLine(state, key, {
    ts: state.now,
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

/** Forgets a queued message (sent, or given up) and its "queued" line. */
export function dropQueued(state: AppState, queueId: number): AppState {
  const item = state.outbox.find((q) => q.id === queueId);
  if (!item) return state;
  const key = "room" in item.target ? roomKey(item.target.room) : dmKey(item.target.dm);
  const next = updateBuffer(state, key, (b) => ({
    ...b,
    lines: b.lines.filter((l) => l.seq !== item.lineSeq),
  }));
  return { ...next, outbox: next.outbox.filter((q) => q.id !== queueId) };
}

/** Shows a failed request; a queued message lost with the connection stays queued. */
export function onRequestFailed(
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

/** Shows a direct message the server acknowledged (it does not echo them). */
export function onDmSent(state: AppState, action: Extract<Action, { type: "dm-sent" }>): AppState {
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
