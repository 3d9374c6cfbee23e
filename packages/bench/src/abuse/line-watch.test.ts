import { describe, expect, it } from "vitest";
import { errorCodeOf, LineWatch } from "./line-watch.js";

const RATE =
  "!!! CHAT_ERR_RATE_LIMITED: You are sending faster than 20 messages/s (burst 40); this message was not sent.\n";
const UNKNOWN = "!!! CHAT_ERR_UNKNOWN_COMMAND: There is no command /xyzzy.\n";

/** Feeds `text` whole, byte by byte, and at every split point: the counts must agree. */
function everySplit(text: string): LineWatch[] {
  const whole = new LineWatch();
  whole.push(text, 5);
  const bytes = new LineWatch();
  for (const ch of text) bytes.push(ch, 5);
  const splits = [1, Math.floor(text.length / 2), text.length - 1].map((at) => {
    const w = new LineWatch();
    w.push(text.slice(0, at), 5);
    w.push(text.slice(at), 5);
    return w;
  });
  return [whole, bytes, ...splits];
}

describe("LineWatch", () => {
  it("counts error lines by code and rate-limit replies as throttle lines", () => {
    for (const watch of everySplit(`*** hello\n${UNKNOWN}${RATE}${RATE}#lobby <a> hi\n`)) {
      expect(watch.heard.lines).toBe(5);
      expect(watch.heard.errorLines).toBe(3);
      expect(watch.heard.codes).toEqual({ CHAT_ERR_UNKNOWN_COMMAND: 1, CHAT_ERR_RATE_LIMITED: 2 });
      expect(watch.heard.throttleLines).toBe(2);
      expect(watch.heard.lastLine).toBe("#lobby <a> hi");
    }
  });

  it("reads summary lines and adds up what they left out", () => {
    const watch = new LineWatch();
    watch.push("*** 1,234 more lines refused\r\n*** 66 more replies suppressed\n", 40);
    expect(watch.heard.summaryLines).toBe(2);
    expect(watch.heard.summarized).toBe(1300);
    expect(watch.heard.throttleLines).toBe(2);
    expect(watch.heard.firstThrottleMs).toBe(40);
  });

  it("times the first throttle line, and leaves the time unknown for late reads", () => {
    const timed = new LineWatch();
    timed.push(UNKNOWN, 10);
    timed.push(RATE, 20);
    timed.push(RATE, 30);
    expect(timed.heard.firstThrottleMs).toBe(20);
    const late = new LineWatch();
    late.push(RATE, undefined);
    expect(late.heard.throttleLines).toBe(1);
    expect(late.heard.firstThrottleMs).toBeUndefined();
  });

  it("skips the rest of an over-long line without keeping it", () => {
    const watch = new LineWatch();
    watch.push("x".repeat(3000), 1);
    watch.push("y".repeat(3000), 1);
    watch.push(`zz\n${RATE}`, 1);
    expect(watch.heard.lines).toBe(1);
    expect(watch.heard.throttleLines).toBe(1);
  });

  it("hands every line to onLine", () => {
    const watch = new LineWatch();
    const seen: string[] = [];
    watch.onLine = (line) => seen.push(line);
    watch.push("a\nb", 0);
    watch.push("c\n", 0);
    expect(seen).toEqual(["a", "bc"]);
  });
});

describe("errorCodeOf", () => {
  it("finds the code of an error line only", () => {
    expect(errorCodeOf("!!! CHAT_ERR_SEND_QUEUE_FULL: gone")).toBe("CHAT_ERR_SEND_QUEUE_FULL");
    expect(errorCodeOf("*** bye")).toBeUndefined();
    expect(errorCodeOf(undefined)).toBeUndefined();
  });
});

describe("LineWatch with structured-mode attackers", () => {
  it("counts JSON error frames by code, and rate-limit ones as throttles", () => {
    const watch = new LineWatch();
    watch.push(
      '{"type":"welcome","proto":1}\n' +
        '{"type":"error","code":"CHAT_ERR_RATE_LIMITED","message":"Slow down.","hint":"x"}\n' +
        '{"type":"error","code":"CHAT_ERR_UNKNOWN_COMMAND","message":"?","hint":"x"}\n',
      7,
    );
    expect(watch.heard.errorLines).toBe(2);
    expect(watch.heard.codes).toEqual({ CHAT_ERR_RATE_LIMITED: 1, CHAT_ERR_UNKNOWN_COMMAND: 1 });
    expect(watch.heard.throttleLines).toBe(1);
    expect(watch.heard.firstThrottleMs).toBe(7);
    expect(errorCodeOf('{"type":"error","code":"CHAT_ERR_SEND_QUEUE_FULL"}')).toBe(
      "CHAT_ERR_SEND_QUEUE_FULL",
    );
  });
});
