import { ProtocolError } from "../errors.js";
import type { ClientFrame } from "./frames.js";

/** Text-mode commands with their usage, for `/help` and usage errors (spec 3.2). */
export const TEXT_COMMANDS = {
  nick: "/nick NAME          change your nick",
  join: "/join ROOM          join a room (created if new) and make it current",
  part: "/part [ROOM]        leave a room (default: the current one)",
  rooms: "/rooms              list rooms and how many are in each",
  who: "/who [ROOM]         list who is in a room (default: the current one)",
  msg: "/msg NICK TEXT      send a direct message",
  me: "/me TEXT            act in the current room (* nick waves)",
  help: "/help               this list",
  quit: "/quit [REASON]      leave and close the connection",
} as const;

function usage(command: keyof typeof TEXT_COMMANDS): ProtocolError {
  return new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
    message: `Usage: ${TEXT_COMMANDS[command].split("  ")[0]}`,
  });
}

/** Splits off the first word: `"bob hi there"` -> `["bob", "hi there"]`. */
function firstWord(rest: string): [string, string] {
  const space = rest.indexOf(" ");
  return space === -1 ? [rest, ""] : [rest.slice(0, space), rest.slice(space + 1).trimStart()];
}

/**
 * Parses one text-mode line (spec 3.2) into a request; `null` for a blank line (ignored).
 * A line not starting with `/` is a message to the current room; `//x` sends `/x`.
 */
export function parseTextLine(line: string): ClientFrame | ProtocolError | null {
  if (line.charCodeAt(0) !== 0x2f /* "/" */) {
    return line.trim() === "" ? null : { type: "send", text: line };
  }
  if (line.charCodeAt(1) === 0x2f) return { type: "send", text: line.slice(1) };
  const [word, rawRest] = firstWord(line.slice(1));
  const rest = rawRest.trim();
  const name = word.toLowerCase();
  switch (name) {
    case "nick":
      return rest === "" || rest.includes(" ") ? usage("nick") : { type: "nick", nick: rest };
    case "join":
      return rest === "" || rest.includes(" ") ? usage("join") : { type: "join", room: rest };
    case "part":
      if (rest.includes(" ")) return usage("part");
      return rest === "" ? { type: "part" } : { type: "part", room: rest };
    case "rooms":
      return { type: "rooms" };
    case "who":
      if (rest.includes(" ")) return usage("who");
      return rest === "" ? { type: "who" } : { type: "who", room: rest };
    case "msg": {
      const [to, text] = firstWord(rest);
      return to === "" || text === "" ? usage("msg") : { type: "dm", to, text };
    }
    case "me":
      return rest === "" ? usage("me") : { type: "send", text: rawRest, action: true };
    case "help":
      return { type: "help" };
    case "quit":
      return rest === "" ? { type: "quit" } : { type: "quit", reason: rest };
    default:
      return new ProtocolError("CHAT_ERR_UNKNOWN_COMMAND", {
        message: `There is no command /${word}.`,
      });
  }
}
