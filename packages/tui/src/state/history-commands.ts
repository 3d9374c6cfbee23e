/**
 * `/history`, `/search`, `/register` and `/login`: parsed by core's text-command parser (one
 * grammar for every client), sent as requests for the shown tab.
 */
import { ERROR_CODES, parseTextLine } from "@tcpchat/core";
import { activeBuffer, dmKey, ensureBuffer, switchTo } from "./buffers.js";
import { online, only, type Reduction, showError } from "./reduction.js";
import { startRequest } from "./scrollback.js";
import type { AppState, ChatBuffer, Effect, HistoryQueryFields } from "./types.js";

/** What one `/history` asks for when it names no count. */
export const DEFAULT_HISTORY_LIMIT = 20;

/** Runs one of the history and account commands typed in the shown tab. */
export function historyCommand(
  state: AppState,
  name: "history" | "search" | "register" | "login",
  args: string,
): Reduction {
  const parsed = parseTextLine(`/${name}${args === "" ? "" : ` ${args}`}`, state.now);
  if (parsed === null) return only(state);
  if (parsed instanceof Error) {
    return only(
      showError(state, {
        code: parsed.code,
        message: parsed.message,
        hint: parsed.hint ?? ERROR_CODES.CHAT_ERR_BAD_ARGUMENT.hint,
      }),
    );
  }
  if (!online(state)) {
    return only(
      showError(state, {
        code: "CHAT_ERR_NOT_CONNECTED",
        message: "Not connected.",
        hint: "Wait for the reconnect to finish, then try again.",
      }),
    );
  }
  // `/history NICK`: the stored DMs with NICK, in (and opening) that DM tab.
  if (parsed.type === "history" && parsed.nick !== undefined) {
    const opened = switchTo(ensureBuffer(state, "dm", parsed.nick), dmKey(parsed.nick));
    const { nick: _nick, ...rest } = parsed;
    return historyRequest(opened, activeBuffer(opened), rest);
  }
  const buffer = activeBuffer(state);
  if (parsed.type === "register") {
    return { state, effects: [{ type: "register", password: parsed.password }] };
  }
  if (parsed.type === "auth") {
    return {
      state,
      effects: [{ type: "login", name: parsed.name, password: parsed.password }],
    };
  }
  if (parsed.type !== "history" && parsed.type !== "search") return only(state);
  if (buffer.kind === "status" || (parsed.type === "search" && buffer.kind !== "room")) {
    return only(
      showError(state, {
        code: "CHAT_ERR_NOT_IN_ROOM",
        message: `/${name} works in a room's tab${parsed.type === "history" ? " or a direct-message tab" : ""}.`,
        hint: "Switch tabs with Ctrl+N, or /join ROOM.",
      }),
    );
  }
  if (parsed.type === "search" && buffer.pendingHistory !== undefined) {
    return only(
      showError(state, {
        code: "CHAT_ERR_BAD_ARGUMENT",
        message: "A history request for this tab is still under way.",
        hint: "Wait for its answer, then ask again.",
      }),
    );
  }
  if (parsed.type === "search") {
    const limit = DEFAULT_HISTORY_LIMIT;
    const effect: Effect = {
      type: "search",
      bufferKey: buffer.key,
      room: buffer.name,
      text: parsed.text,
    };
    return {
      state: startRequest(state, buffer.key, "search", limit, parsed.text),
      effects: [effect],
    };
  }
  return historyRequest(state, buffer, parsed);
}

/** A `/history` for a room or DM tab (a DM tab asks for the stored DMs with its nick). */
function historyRequest(
  state: AppState,
  buffer: ChatBuffer,
  parsed: { dir?: HistoryQueryFields["dir"]; ts?: number; limit?: number },
): Reduction {
  if (buffer.pendingHistory !== undefined) {
    return only(
      showError(state, {
        code: "CHAT_ERR_BAD_ARGUMENT",
        message: "A history request for this tab is still under way.",
        hint: "Wait for its answer, then ask again.",
      }),
    );
  }
  const limit = parsed.limit ?? DEFAULT_HISTORY_LIMIT;
  const effect: Effect = {
    type: "history",
    bufferKey: buffer.key,
    target: buffer.name,
    dm: buffer.kind === "dm",
    query: {
      limit,
      ...(parsed.dir === undefined ? {} : { dir: parsed.dir }),
      ...(parsed.ts === undefined ? {} : { ts: parsed.ts }),
    },
  };
  return { state: startRequest(state, buffer.key, "history", limit), effects: [effect] };
}
