import { PROTOCOL_VERSION } from "../defaults.js";
import {
  type ChatError,
  type ChatErrorCode,
  chatError,
  isChatErrorCode,
  RemoteError,
} from "../errors.js";

/** Prefix by which a client recognizes a tcpchat server's greeting (spec 3.1). */
export const GREETING_PREFIX = "*** tcpchat/";

/** The fields of a text-mode greeting. */
export interface Greeting {
  readonly version: number;
  readonly software: string;
  readonly nick: string;
  readonly room: string;
}

/** Formats the greeting line (spec 3.1), without line ending. */
export function formatGreeting(software: string, nick: string, room: string): string {
  return `${GREETING_PREFIX}${PROTOCOL_VERSION} ${software}: welcome, you are ${nick} in #${room}. /help lists commands.`;
}

const GREETING = /^\*\*\* tcpchat\/(\d+) (.+?): welcome, you are (\S+) in #(\S+)\. /;

/** Parses a greeting line, or returns null if the line is not one. */
export function parseGreeting(line: string): Greeting | null {
  const match = GREETING.exec(line);
  if (match === null) return null;
  return {
    version: Number(match[1]),
    software: match[2]!,
    nick: match[3]!,
    room: match[4]!,
  };
}

/** Formats an error line: `!!! CODE: message (hint: ...)` (spec 3.3 and 6). */
export function formatErrorLine(code: ChatErrorCode, message: string, hint: string): string {
  return `!!! ${code}: ${message} (hint: ${hint})`;
}

/** Formats the one line a refused connection gets (spec 6). */
export function formatRefusalLine(
  code: ChatErrorCode,
  message: string,
  hint: string,
  retryAfterMs?: number,
): string {
  const retry =
    retryAfterMs === undefined ? "" : ` retry in ${Math.max(1, Math.ceil(retryAfterMs / 1000))}s`;
  return formatErrorLine(code, message + retry, hint);
}

const ERROR_LINE = /^!!! (CHAT_ERR_[A-Z0-9_]+): (.*?)(?: \(hint: (.*)\))?$/;
const RETRY = / retry in (\d+)s$/;

/** Parses any `!!! CODE: message (hint: ...)` line into the matching error, or null. */
export function parseErrorLine(line: string): ChatError | null {
  const match = ERROR_LINE.exec(line);
  if (match === null || !isChatErrorCode(match[1]!)) return null;
  const code = match[1];
  const message = match[2]!;
  const hint = match[3];
  const retry = RETRY.exec(message);
  if (code.startsWith("CHAT_ERR_REFUSED_")) {
    return new RemoteError(code, {
      message,
      ...(hint === undefined ? {} : { hint }),
      ...(retry === null ? {} : { retryAfterMs: Number(retry[1]) * 1000 }),
    });
  }
  return chatError(code, { message, ...(hint === undefined ? {} : { hint }) });
}

/** Parses a refusal line (a `CHAT_ERR_REFUSED_*` error line), or returns null. */
export function parseRefusalLine(line: string): RemoteError | null {
  const error = parseErrorLine(line);
  return error instanceof RemoteError && error.code.startsWith("CHAT_ERR_REFUSED_") ? error : null;
}
