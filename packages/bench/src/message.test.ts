import { describe, expect, it } from "vitest";
import {
  decodeMessage,
  decodeSetup,
  MessageEncoder,
  MIN_MESSAGE_BYTES,
  setupLine,
} from "./message.js";

describe("MessageEncoder / decodeMessage", () => {
  it("round-trips sender, sequence and timestamp at a fixed size", () => {
    const encoder = new MessageEncoder(64);
    const buf = encoder.encode(42, 1000, 3, (i) => 123_456 + i);
    expect(buf.length).toBe(3 * 65);
    for (let i = 0; i < 3; i++) {
      const end = i * 65 + 64;
      expect(buf[end]).toBe(0x0a);
      expect(decodeMessage(buf, end, 64)).toEqual({
        sender: 42,
        seq: 1000 + i,
        sentAtUs: 123_456 + i,
      });
    }
  });

  it("decodes behind any prefix the server adds", () => {
    const text = new MessageEncoder(40)
      .encode(7, 9, 1, () => 5)
      .toString("latin1")
      .trimEnd();
    const line = Buffer.from(`#lobby <guest-1f3a> ${text}`, "latin1");
    expect(decodeMessage(line, line.length, 40)).toEqual({ sender: 7, seq: 9, sentAtUs: 5 });
  });

  it("rejects lines that are not bench messages", () => {
    const line = Buffer.from("#lobby --> 120 joined, 3 left in the last 1s");
    expect(decodeMessage(line, line.length, 40)).toBeNull();
    expect(decodeMessage(Buffer.from("short~"), 6, 40)).toBeNull();
  });

  it("refuses sizes too small for the fields", () => {
    expect(() => new MessageEncoder(MIN_MESSAGE_BYTES - 1)).toThrow(RangeError);
  });

  it("encodes and finds setup lines", () => {
    const line = Buffer.from(`#pair4 <bob> ${setupLine(123)}`);
    expect(decodeSetup(line, line.length - 1)).toBe(123);
    expect(decodeSetup(Buffer.from("#pair4 <bob> hello"), 18)).toBe(-1);
  });
});
