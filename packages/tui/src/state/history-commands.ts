/**
 * `/history`, `/search`, `/register` and `/login`: parsed by core's text-command parser (one
 * grammar for every client), sent as requests for the shown tab.
 */
import { ERROR_CODES, parseTextLine } from "@tcpchat/core";
import { activeBuffer } from "./buffers.js";
import { online, only, type Reduction, showError } from "./reduction.js";
import { startRequest } from "./scrollback.js";
import type { AppState, Effect } from "./types.js";

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
  if (buffer.pendingHistory !== undefined) {
    return only(
      showError(state, {
        code: "CHAT_ERR_BAD_ARGUMENT",
        message: "A history request for this tab is still under way.",
        hint: "Wait for its answer, then ask again.",
      }),
    );
  }
  let effect: Effect;
  let next: AppState;
  if (parsed.type === "search") {
    const limit = DEFAULT_HISTORY_LIMIT;
    next = startRequest(state, buffer.key, "search", limit, parsed.text);
    effect = { type: "search", bufferKey: buffer.key, room: buffer.name, text: parsed.text };
  } else {
    const limit = parsed.limit ?? DEFAULT_HISTORY_LIMIT;
    next = startRequest(state, buffer.key, "history", limit);
    effect = {
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
  }
  return { state: next, effects: [effect] };
}
