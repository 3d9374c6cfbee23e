import type { ClientFrame } from "@tcpchat/core/protocol";
import type { Conversation } from "./conversation.js";

/** What the composer's text asks for: a request to send, or a problem to show. */
export type Command =
  | { readonly frame: ClientFrame; readonly echo?: { key: string; text: string; action: boolean } }
  | { readonly problem: string };

/** The slash commands the page knows, for the help line. */
export const COMMAND_HELP =
  "/join ROOM, /part [ROOM], /msg NICK TEXT, /me ACTION, /nick NAME, /who, /help";

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
