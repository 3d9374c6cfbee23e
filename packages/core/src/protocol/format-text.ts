import type { ServerFrame } from "./frames.js";
import { formatErrorLine } from "./lines.js";

/**
 * Formats a server frame as the readable text-mode line (spec 3.3), without line ending;
 * `null` for frames text mode does not show (acks, pings, welcome).
 */
export function formatTextLine(frame: ServerFrame): string | null {
  switch (frame.type) {
    case "message": {
      // History is marked on every line, so a line read alone is never taken for live talk.
      const room = frame.history
        ? `#${frame.room} [history ${historyTime(frame.ts)}]`
        : `#${frame.room}`;
      return frame.action
        ? `${room} * ${frame.from} ${frame.text}`
        : `${room} <${frame.from}> ${frame.text}`;
    }
    case "dm":
      return frame.history
        ? `*dm* [history ${historyTime(frame.ts)}] <${frame.from}> -> ${frame.to}: ${frame.text}`
        : `*dm* <${frame.from}> ${frame.text}`;
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
    case "topic":
      if (frame.text === "") return `*** #${frame.room} has no topic`;
      return `*** topic of #${frame.room}: ${frame.text}${frame.by === undefined ? "" : ` (set by ${frame.by}${frame.ts === undefined ? "" : ` ${historyTime(frame.ts)}`})`}`;
    case "notice":
      return `*** ${frame.text}`;
    case "shutdown":
      return `*** server shutting down: ${frame.reason}`;
    default:
      return null;
  }
}

/** `11-30 07:12Z`: month, day and UTC time of a history line (the server's clock, in UTC). */
export function historyTime(ts: number): string {
  return `${new Date(ts).toISOString().slice(5, 16).replace("T", " ")}Z`;
}
