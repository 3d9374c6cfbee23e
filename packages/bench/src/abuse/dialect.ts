/**
 * The same requests in each kind of client's words: text commands (plain, TLS, telnet) or JSON
 * frames (JSON lines, WebSocket), and how to tell a request's answer among the lines heard.
 */
import { type AttackerKind, speaksJson } from "./attacker.js";

/** A request whose answer a client waits for: its `ref`, and the text line that means done. */
export interface AnsweredRequest {
  /** The JSON `ref` (structured kinds are answered by an `ack` or an `error` carrying it). */
  ref: string;
  /** The line that answers it in text mode (text errors carry no ref). */
  textDone: RegExp;
}

/** The answer a line gives to `request`: "done", an error code, or undefined (not its answer). */
export type AnswerOf = (line: string, request: AnsweredRequest) => string | undefined;

/** Where a history page starts. */
export interface HistoryPage {
  id: number;
  ts: number;
  minutesAgo: number;
  shape: "before-id" | "around-id" | "before-ts";
}

/** Requests of the attacks, phrased for one kind of client; each ends in a newline. */
export interface AttackerDialect {
  /** Joins `room` and leaves the default room, #lobby, so its traffic is the attacker's own. */
  joinInstead(room: string): string;
  /** Takes `nick`, then registers it with `password`. */
  register(nick: string, password: string, ref: string): string;
  /** Logs in to account `name`. */
  login(name: string, password: string, ref: string): string;
  /** Searches `room` for messages with every word of `words`. */
  search(room: string, words: string, ref: string): string;
  /**
   * A page of `room`'s history: structured kinds ask for 100 messages before or around message
   * `id`, or before server time `ts`, by `shape`; text has no ids, so it asks for the messages
   * since `minutesAgo` minutes ago.
   */
  history(room: string, page: HistoryPage, ref: string): string;
  answerOf: AnswerOf;
}

const TEXT_ERROR = /^!!! (CHAT_ERR_[A-Z0-9_]+)/;
const JSON_ERROR = /^\{"type":"error","code":"(CHAT_ERR_[A-Z0-9_]+)"/;

const TEXT: AttackerDialect = {
  joinInstead: (room) => `/join #${room}\n/part #lobby\n`,
  register: (nick, password) => `/nick ${nick}\n/register ${password}\n`,
  login: (name, password) => `/login ${name} ${password}\n`,
  search: (_room, words) => `/search ${words}\n`,
  history: (_room, page) => `/history since ${page.minutesAgo}m\n`,
  answerOf(line, request) {
    if (request.textDone.test(line)) return "done";
    return TEXT_ERROR.exec(line)?.[1];
  },
};

const JSON_LINES: AttackerDialect = {
  joinInstead: (room) => `{"type":"join","room":"${room}"}\n{"type":"part","room":"lobby"}\n`,
  register: (nick, password, ref) =>
    `{"type":"nick","nick":"${nick}"}\n{"type":"register","ref":"${ref}","password":"${password}"}\n`,
  login: (name, password, ref) =>
    `{"type":"auth","ref":"${ref}","name":"${name}","password":"${password}"}\n`,
  search: (room, words, ref) =>
    `{"type":"search","ref":"${ref}","room":"${room}","text":"${words}"}\n`,
  history: (room, page, ref) => {
    const anchor =
      page.shape === "before-ts"
        ? `"dir":"before","ts":${page.ts}`
        : `"dir":"${page.shape === "around-id" ? "around" : "before"}","id":"${page.id.toString(36)}"`;
    return `{"type":"history","ref":"${ref}","room":"${room}",${anchor},"limit":100}\n`;
  },
  answerOf(line, request) {
    if (line.startsWith('{"type":"ack"') && line.includes(`"ref":"${request.ref}"`)) return "done";
    const error = JSON_ERROR.exec(line);
    // An error for this request carries its ref; a summary of suppressed errors carries none.
    if (error === null || (line.includes('"ref":') && !line.includes(`"ref":"${request.ref}"`))) {
      return undefined;
    }
    return error[1];
  },
};

/** The dialect a kind of client speaks. */
export function dialectOf(kind: AttackerKind | undefined): AttackerDialect {
  return speaksJson(kind) ? JSON_LINES : TEXT;
}
