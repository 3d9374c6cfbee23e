/**
 * Turns the text-mode request lines the load generator writes (`/join ROOM`, message text)
 * into structured-mode requests (protocol spec section 4.1), one JSON object per line.
 */

const LF = "\n";
const JOIN = "/join ";

/** The JSON requests for `lines` (LF-separated; empty lines are skipped), each ending in LF. */
export function textLinesToJsonRequests(lines: Buffer | string): Buffer {
  const text = typeof lines === "string" ? lines : lines.toString("utf8");
  let out = "";
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(LF, start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    out += line.startsWith(JOIN)
      ? `{"type":"join","room":${JSON.stringify(line.slice(JOIN.length))}}\n`
      : `{"type":"send","text":${JSON.stringify(line)}}\n`;
  }
  return Buffer.from(out, "utf8");
}

/**
 * The hello that opens a structured session (spec 4.1), with its LF: compact, like every tcpchat
 * client, so a room's runs of messages arrive as `messages` frames (spec 4.6).
 */
export const JSON_HELLO = '{"type":"hello","proto":1,"compact":true}\n';

/**
 * What follows a message's text on a JSON `message` line: the text is the frame's last field.
 * An item of a `messages` run ends with the first byte of it and `]` (`["id","from",0,"text"]`).
 */
export const JSON_MESSAGE_TRAILER = Buffer.from('"}', "latin1");
