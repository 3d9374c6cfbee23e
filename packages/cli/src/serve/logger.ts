import { neutralizeText } from "@tcpchat/core";

/** Log output formats of `tcpchat serve`. */
export const LOG_FORMAT = { text: "text", json: "json" } as const;
/** One of {@link LOG_FORMAT}'s values. */
export type LogFormat = (typeof LOG_FORMAT)[keyof typeof LOG_FORMAT];

/** Severity of a log record. */
export type LogLevel = "info" | "warn" | "error";

/** Structured fields of a log record. */
export type LogFields = Record<string, unknown>;

/** Writes one record per line to a stream (stderr): readable text, or one JSON object per line. */
export interface Logger {
  log(level: LogLevel, event: string, message: string, fields?: LogFields): void;
  info(event: string, message: string, fields?: LogFields): void;
  warn(event: string, message: string, fields?: LogFields): void;
  error(event: string, message: string, fields?: LogFields): void;
}

/** Creates a {@link Logger}. Text lines read `HH:MM:SS level event: message key=value ...`. */
export function createLogger(format: LogFormat, out: { write(text: string): unknown }): Logger {
  const log = (level: LogLevel, event: string, message: string, fields: LogFields = {}): void => {
    const now = new Date();
    if (format === LOG_FORMAT.json) {
      out.write(
        `${JSON.stringify({ ts: now.toISOString(), level, event, msg: message, ...fields })}\n`,
      );
      return;
    }
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(
        ([k, v]) => `${k}=${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`,
      )
      .join(" ");
    const time = now.toTimeString().slice(0, 8);
    // One record, one line: a multi-line message (a list of problems) is folded. Whatever a
    // peer put in it (a reason, a name) is shown, never run, by the terminal reading the log.
    const oneLine = message.replace(/:\n\s*/g, ": ").replace(/\n\s*/g, "; ");
    out.write(
      `${time} ${level.padEnd(5)} ${event}: ${neutralizeText(oneLine)}${extra ? `  ${neutralizeText(extra)}` : ""}\n`,
    );
  };
  return {
    log,
    info: (event, message, fields) => log("info", event, message, fields),
    warn: (event, message, fields) => log("warn", event, message, fields),
    error: (event, message, fields) => log("error", event, message, fields),
  };
}
