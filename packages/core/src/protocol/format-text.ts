import type { ServerFrame } from "./frames.js";
import { formatErrorLine } from "./lines.js";

/**
 * Formats a server frame as the readable text-mode line (spec 3.3), without line ending;
 * `null` for frames text mode does not show (acks, pings, welcome).
 */
export function formatTextLine(frame: ServerFrame): string | null {
  switch (frame.type) {
    case "message":
      return frame.action
        ? `#${frame.room} * ${frame.from} ${frame.text}`
        : `#${frame.room} <${frame.from}> ${frame.text}`;
    case "dm":
      return `*dm* <${frame.from}> ${frame.text}`;
    case "join":
      return `#${frame.room} --> ${frame.nick} joined`;
    case "part":
      return `#${frame.room} <-- ${frame.nick} left${frame.reason ? ` (${frame.reason})` : ""}`;
    case "crowd":
      return `#${frame.room} --> ${frame.joined} joined, ${frame.left} left in the last ${Math.round(frame.windowMs / 1000)}s`;
    case "nick":
      return `*** ${frame.old} is now known as ${frame.new}`;
    case "presence":
      return `*** #${frame.room} (${frame.count}): ${frame.nicks.join(" ")}${frame.truncated ? " ..." : ""}`;
    case "rooms":
      return `*** rooms: ${frame.rooms.map((r) => `#${r.name} (${r.members})`).join(", ") || "none"}`;
    case "error":
      return formatErrorLine(frame.code as never, frame.message, frame.hint);
    case "notice":
      return `*** ${frame.text}`;
    case "shutdown":
      return `*** server shutting down: ${frame.reason}`;
    default:
      return null;
  }
}
