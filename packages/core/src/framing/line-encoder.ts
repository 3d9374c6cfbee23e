import { FramingError } from "../errors.js";

const LINE_BREAK = /[\r\n]/;

/** Whether text can be sent as one line (spec 1.4: no CR or LF inside a line). */
export function isSingleLine(text: string): boolean {
  return !LINE_BREAK.test(text);
}

/**
 * Encodes text as one LF-terminated UTF-8 line. Throws {@link FramingError}
 * `CHAT_ERR_LINE_BREAK_IN_TEXT` if the text contains CR or LF (spec 1.4).
 */
export function encodeLine(text: string): Buffer {
  if (!isSingleLine(text)) throw new FramingError("CHAT_ERR_LINE_BREAK_IN_TEXT");
  return Buffer.from(`${text}\n`, "utf8");
}
