/**
 * What an attacker's connection hears back, line by line: error codes, rate-limit replies and
 * summary lines ("1,234 more lines refused"), and the last line before the server closed.
 */

/**
 * `!!! CHAT_ERR_SOMETHING: ...`: the text-mode error line; or a structured-mode error frame
 * (`{"type":"error","code":"CHAT_ERR_SOMETHING",...}`, JSON lines and WebSocket attackers).
 */
const ERROR_LINE = /^(?:!!! |\{"type":"error","code":")(CHAT_ERR_[A-Z0-9_]+)/;
/** A code that says "you are going too fast" rather than "that request was wrong". */
const THROTTLE_CODE = /RATE|FLOOD|THROTTL|TOO_FAST|SLOW_DOWN|SUPPRESS/;
/** A line that sums up replies the server left out: "1,234 more lines refused". */
const SUMMARY_LINE = /\b(\d[\d,]*) more\b.*\b(refused|suppressed|dropped|skipped|not sent)\b/i;

/** Longest partial line kept while waiting for its end; the rest of a longer line is skipped. */
const MAX_PARTIAL = 4096;

/** Counts of what one connection heard. */
export interface HeardLines {
  lines: number;
  errorLines: number;
  /** Error lines by code. */
  codes: Record<string, number>;
  /** Rate-limit error lines plus summary lines. */
  throttleLines: number;
  summaryLines: number;
  /** Replies the summary lines say were left out (the sum of their numbers). */
  summarized: number;
  /** When the first throttle line arrived, ms on the watcher's clock (undefined: none, or unknown). */
  firstThrottleMs: number | undefined;
  /** The last complete line (up to 200 characters). */
  lastLine: string | undefined;
}

/** Splits a byte stream into lines and classifies each one. Pure: the caller passes the time. */
export class LineWatch {
  readonly heard: HeardLines = {
    lines: 0,
    errorLines: 0,
    codes: {},
    throttleLines: 0,
    summaryLines: 0,
    summarized: 0,
    firstThrottleMs: undefined,
    lastLine: undefined,
  };
  /** Called with every complete line (for a client waiting for one particular line). */
  onLine: ((line: string) => void) | undefined;
  #partial = "";
  #skipping = false;

  /**
   * Takes one chunk. `nowMs` is when it arrived, or undefined when that is unknown (a chunk read
   * only after the attack, from a connection that did not read while it ran).
   */
  push(chunk: Buffer | string, nowMs: number | undefined): void {
    const text = typeof chunk === "string" ? chunk : chunk.toString("utf8");
    let from = 0;
    for (let lf = text.indexOf("\n"); lf !== -1; lf = text.indexOf("\n", from)) {
      const piece = text.slice(from, lf);
      from = lf + 1;
      if (this.#skipping) {
        this.#skipping = false;
        this.#partial = "";
        continue;
      }
      const line = (this.#partial + piece).replace(/\r$/, "");
      this.#partial = "";
      this.#line(line, nowMs);
    }
    const rest = text.slice(from);
    if (this.#skipping) return;
    if (this.#partial.length + rest.length > MAX_PARTIAL) {
      this.#skipping = true;
      this.#partial = "";
    } else this.#partial += rest;
  }

  #line(line: string, nowMs: number | undefined): void {
    const heard = this.heard;
    heard.lines++;
    heard.lastLine = line.slice(0, 200);
    this.onLine?.(line);
    let throttle = false;
    const error = ERROR_LINE.exec(line);
    if (error) {
      const code = error[1]!;
      heard.errorLines++;
      heard.codes[code] = (heard.codes[code] ?? 0) + 1;
      if (THROTTLE_CODE.test(code)) throttle = true;
    }
    const summary = SUMMARY_LINE.exec(line);
    if (summary) {
      heard.summaryLines++;
      heard.summarized += Number(summary[1]!.replace(/,/g, ""));
      throttle = true;
    }
    if (throttle) {
      heard.throttleLines++;
      if (heard.firstThrottleMs === undefined && nowMs !== undefined) heard.firstThrottleMs = nowMs;
    }
  }
}

/** The error code of a server's last line (`!!! CHAT_ERR_...`), or undefined. */
export function errorCodeOf(line: string | undefined): string | undefined {
  return line === undefined ? undefined : ERROR_LINE.exec(line)?.[1];
}
