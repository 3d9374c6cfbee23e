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
  history:
    "/history [NICK] [N | since TIME]  earlier messages of the current room, or your stored DMs with NICK (TIME: 30m, 2h, 1d or 2026-11-30T09:00Z)",
  search: "/search WORDS       find messages of the current room with every word",
  register: "/register PASSWORD  register your current nick (use TLS: the line is not encrypted)",
  login: "/login NAME PASSWORD  log in to a registered nick",
  kick: "/kick NICK [REASON]  disconnect someone (operator accounts only)",
  ban: "/ban NICK|ADDRESS [DURATION] [REASON]  ban an address (DURATION: 90s, 15m, 2h, 1d; operators only)",
  unban: "/unban ADDRESS      lift a ban of an address or CIDR block (operators only)",
  topic:
    "/topic [#ROOM] [TEXT]  show a room's topic; with TEXT set it, --clear clears it (operators only)",
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
export function parseTextLine(
  line: string,
  now: number = Date.now(),
): ClientFrame | ProtocolError | null {
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
    case "history":
      return parseHistory(rest, now);
    case "search":
      return rest === "" ? usage("search") : { type: "search", text: rest };
    case "register":
      return rest === "" || rest.includes(" ")
        ? usage("register")
        : { type: "register", password: rest };
    case "login": {
      const [name, password] = firstWord(rest);
      return name === "" || password === "" || password.includes(" ")
        ? usage("login")
        : { type: "auth", name, password };
    }
    case "kick": {
      const [nick, reason] = firstWord(rest);
      if (nick === "") return usage("kick");
      return reason === "" ? { type: "kick", nick } : { type: "kick", nick, reason };
    }
    case "ban":
      return parseBan(rest);
    case "unban":
      return rest === "" || rest.includes(" ") ? usage("unban") : { type: "unban", target: rest };
    case "topic":
      return parseTopic(rest);
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

const DURATION_UNITS_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * `/history`, `/history 50`, `/history since 2h`, `/history since 2026-11-30T09:00Z`; with a
 * nick first (`/history bob 50`), the stored DMs with bob. A number or `since` is never a nick.
 */
function parseHistory(rest: string, now: number): ClientFrame | ProtocolError {
  const [first, afterFirst] = firstWord(rest);
  if (first === "" || /^\d+$/.test(first) || first.toLowerCase() === "since") {
    return parseHistoryQuery(rest, now);
  }
  const query = parseHistoryQuery(afterFirst.trim(), now);
  return query instanceof ProtocolError ? query : { ...query, nick: first };
}

type HistoryFrame = Extract<ClientFrame, { type: "history" }>;

/** The count or time of a `/history`: `""`, `50`, `since 2h`, `since 2026-11-30T09:00Z`. */
function parseHistoryQuery(rest: string, now: number): HistoryFrame | ProtocolError {
  if (rest === "") return { type: "history" };
  if (/^\d{1,6}$/.test(rest)) return { type: "history", limit: Number(rest) };
  const since = /^since\s+(\S+)$/i.exec(rest);
  if (since === null) return usage("history");
  const time = since[1]!;
  const duration = /^(\d{1,6})([smhd])$/i.exec(time);
  if (duration !== null) {
    const unit = duration[2]!.toLowerCase() as keyof typeof DURATION_UNITS_MS;
    return {
      type: "history",
      dir: "after",
      ts: now - Number(duration[1]) * DURATION_UNITS_MS[unit],
    };
  }
  const ts = Date.parse(time);
  if (Number.isNaN(ts)) {
    return new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
      message: `"${time.slice(0, 40)}" is not a time: use 30m, 2h, 1d, or a date such as 2026-11-30T09:00Z.`,
    });
  }
  return { type: "history", dir: "after", ts };
}

/** A duration word (`90s`, `15m`, `2h`, `1d`) in ms, or undefined when the word is not one. */
function durationMs(word: string): number | undefined {
  const duration = /^(\d{1,6})([smhd])$/i.exec(word);
  if (duration === null) return undefined;
  const unit = duration[2]!.toLowerCase() as keyof typeof DURATION_UNITS_MS;
  return Number(duration[1]) * DURATION_UNITS_MS[unit];
}

/** `/ban TARGET [DURATION] [REASON]`: a second word that reads as a duration is one. */
function parseBan(rest: string): ClientFrame | ProtocolError {
  const [target, afterTarget] = firstWord(rest);
  if (target === "") return usage("ban");
  const [second, afterSecond] = firstWord(afterTarget);
  const duration = durationMs(second);
  const reason = duration === undefined ? afterTarget : afterSecond;
  if (duration === 0) {
    return new ProtocolError("CHAT_ERR_BAD_ARGUMENT", {
      message: "A ban lasts at least 1 s; leave the duration out for a ban until lifted.",
    });
  }
  return {
    type: "ban",
    target,
    ...(duration === undefined ? {} : { durationMs: duration }),
    ...(reason === "" ? {} : { reason }),
  };
}

/** The word that clears a topic: `/topic --clear`, `/topic #room --clear`. */
const CLEAR_TOPIC = "--clear";

/** `/topic`, `/topic #room`, `/topic [#room] TEXT`, `/topic [#room] --clear`. */
function parseTopic(rest: string): ClientFrame {
  let room: string | undefined;
  let text = rest;
  if (rest.startsWith("#")) {
    const [word, after] = firstWord(rest);
    room = word.slice(1);
    text = after;
  }
  const frame: ClientFrame = room === undefined ? { type: "topic" } : { type: "topic", room };
  if (text === "") return frame;
  return { ...frame, text: text === CLEAR_TOPIC ? "" : text };
}
