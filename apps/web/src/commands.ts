import { type ClientFrame, parseTextLine } from "@tcpchat/core/protocol";
import type { Conversation, PendingHistory } from "./conversation.js";
import { historyTarget } from "./history.js";

/** What the composer's text asks for: a request to send, or a problem to show. */
export type Command =
  | {
      readonly frame: ClientFrame;
      readonly echo?: { key: string; text: string; action: boolean };
      /** A history or search request: the conversation waits for its messages. */
      readonly history?: PendingHistory;
    }
  | { readonly problem: string };

/** The slash commands the page knows, for the help line. */
export const COMMAND_HELP =
  "/join ROOM, /part [ROOM], /msg NICK TEXT, /me ACTION, /nick NAME, /who, /history [N | since TIME], /search WORDS, /register PASSWORD, /login NAME PASSWORD, /help";

/** What `/history` and `/search` ask for when they name no count. */
export const DEFAULT_HISTORY_LIMIT = 20;

/**
 * Turns what was typed in `conversation` into a request (spec 4.1). Plain text is a message to
 * the room or the DM peer shown; `//text` sends text that starts with a slash.
 */
export function parseComposer(input: string, conversation: Conversation, ref: string): Command {
  const text = input.trim() === "" ? "" : input;
  if (text === "") return { problem: "Nothing to send." };
  if (!text.startsWith("/") || text.startsWith("//")) {
    return say(text.startsWith("//") ? text.slice(1) : text, conversation, ref, false);
  }
  const [, name = "", rest = ""] = /^\/(\S+)\s*([\s\S]*)$/.exec(text) ?? [];
  const arg = rest.trim();
  switch (name.toLowerCase()) {
    case "join":
    case "j":
      return arg ? { frame: { type: "join", ref, room: arg } } : { problem: "Usage: /join ROOM" };
    case "part":
    case "leave":
      return { frame: { type: "part", ref, room: arg || roomOf(conversation) } };
    case "msg":
    case "m": {
      const [, to = "", body = ""] = /^(\S+)\s+([\s\S]+)$/.exec(arg) ?? [];
      if (!to) return { problem: "Usage: /msg NICK TEXT" };
      return {
        frame: { type: "dm", ref, to, text: body },
        echo: { key: "", text: body, action: false },
      };
    }
    case "me":
      return arg ? say(arg, conversation, ref, true) : { problem: "Usage: /me ACTION" };
    case "nick":
      return arg ? { frame: { type: "nick", ref, nick: arg } } : { problem: "Usage: /nick NAME" };
    case "who":
      return { frame: { type: "who", ref, room: roomOf(conversation) } };
    case "help":
      return { frame: { type: "help", ref } };
    case "history":
    case "search":
    case "register":
    case "login":
    case "identify":
      return historyOrAccount(text.replace(/^\/identify\b/i, "/login"), conversation, ref);
    default:
      return { problem: `Unknown command /${name}. Commands: ${COMMAND_HELP}` };
  }
}

function roomOf(conversation: Conversation): string | undefined {
  return conversation.kind === "room" ? conversation.title : undefined;
}

function say(text: string, conversation: Conversation, ref: string, action: boolean): Command {
  const echo = { key: conversation.key, text, action };
  if (conversation.kind === "dm") {
    return { frame: { type: "dm", ref, to: conversation.title, text }, echo };
  }
  return { frame: { type: "send", ref, room: conversation.title, text, action }, echo };
}

/** `/history`, `/search`, `/register`, `/login`: core's text grammar, sent as JSON requests. */
function historyOrAccount(text: string, conversation: Conversation, ref: string): Command {
  const parsed = parseTextLine(text);
  if (parsed === null) return { problem: "Nothing to send." };
  if (parsed instanceof Error) return { problem: parsed.message };
  if (parsed.type === "register" || parsed.type === "auth") return { frame: { ...parsed, ref } };
  if (conversation.pendingHistory !== undefined) {
    return { problem: "A history request for this conversation is still under way." };
  }
  if (parsed.type === "search") {
    if (conversation.kind !== "room") return { problem: "/search works in a room." };
    const limit = DEFAULT_HISTORY_LIMIT;
    return {
      frame: { ...parsed, ref, room: conversation.title, limit },
      history: { ref, kind: "search", limit, received: 0, insertAt: 0, text: parsed.text },
    };
  }
  if (parsed.type !== "history") return { problem: `Unknown command ${text}` };
  const limit = parsed.limit ?? DEFAULT_HISTORY_LIMIT;
  return {
    frame: { ...parsed, ref, ...historyTarget(conversation), limit },
    history: { ref, kind: "history", limit, received: 0, insertAt: 0 },
  };
}
