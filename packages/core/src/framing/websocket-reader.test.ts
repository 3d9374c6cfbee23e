import { describe, expect, it } from "vitest";
import { WebSocketFrameReader, type WebSocketFrameSink } from "./websocket-reader.js";

type Event =
  | { message: string }
  | { ping: string }
  | { pong: true }
  | { close: number; reason: string }
  | { fail: number };

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** One client frame (masked unless told otherwise), with the header fields a test may break. */
function frame(
  opcode: number,
  payload: Buffer | string,
  options: { fin?: boolean; masked?: boolean; rsv?: number; length64?: boolean } = {},
): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const masked = options.masked ?? true;
  const first = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode;
  let header: Buffer;
  if (options.length64 === true || body.length > 65535) {
    header = Buffer.alloc(10);
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(body.length), 2);
  } else if (body.length > 125) {
    header = Buffer.alloc(4);
    header[1] = 126;
    header.writeUInt16BE(body.length, 2);
  } else {
    header = Buffer.alloc(2);
    header[1] = body.length;
  }
  header[0] = first;
  if (!masked) return Buffer.concat([header, body]);
  header[1] = header[1]! | 0x80;
  return Buffer.concat([header, MASK, body.map((byte, i) => byte ^ MASK[i % 4]!)]);
}

function closeBody(code: number, reason = ""): Buffer {
  const body = Buffer.alloc(2 + Buffer.byteLength(reason));
  body.writeUInt16BE(code, 0);
  body.write(reason, 2);
  return body;
}

/** Feeds `bytes` cut at `cuts` (each piece a fresh copy, as a socket's chunks are). */
function read(bytes: Buffer, cuts: number[], maxMessageBytes: number): Event[] {
  const events: Event[] = [];
  const sink: WebSocketFrameSink = {
    onMessage: (payload) => events.push({ message: payload.toString("utf8") }),
    onPing: (payload) => events.push({ ping: payload.toString("utf8") }),
    onPong: () => events.push({ pong: true }),
    onClose: (code, reason) => events.push({ close: code, reason }),
    onFail: (code) => events.push({ fail: code }),
  };
  const reader = new WebSocketFrameReader(maxMessageBytes);
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    reader.push(Buffer.from(bytes.subarray(start, cut)), sink);
    start = cut;
  }
  return events;
}

/** Every fixture runs whole, byte by byte, and at random split points (STYLE.md). */
function readEveryWay(bytes: Buffer, maxMessageBytes = 1024): Event[] {
  const whole = read(bytes, [], maxMessageBytes);
  expect(
    read(
      bytes,
      Array.from({ length: bytes.length }, (_, i) => i),
      maxMessageBytes,
    ),
  ).toEqual(whole);
  for (let run = 0; run < 20; run++) {
    const cuts = Array.from({ length: 3 }, () =>
      Math.floor(Math.random() * (bytes.length + 1)),
    ).sort((a, b) => a - b);
    expect(read(bytes, cuts, maxMessageBytes)).toEqual(whole);
  }
  return whole;
}

describe("WebSocketFrameReader (RFC 6455 section 5)", () => {
  it("reads masked text messages of every length encoding", () => {
    const long = "x".repeat(300);
    const huge = "y".repeat(70_000);
    expect(
      readEveryWay(
        Buffer.concat([frame(1, "hi"), frame(1, long), frame(1, huge), frame(1, "")]),
        100_000,
      ),
    ).toEqual([{ message: "hi" }, { message: long }, { message: huge }, { message: "" }]);
  });

  it("joins fragments, with pings and pongs interleaved inside the message", () => {
    const bytes = Buffer.concat([
      frame(1, "one ", { fin: false }),
      frame(9, "are you there"),
      frame(0, "two ", { fin: false }),
      frame(10, ""),
      frame(0, "three"),
      frame(1, "next"),
    ]);
    expect(readEveryWay(bytes)).toEqual([
      { ping: "are you there" },
      { pong: true },
      { message: "one two three" },
      { message: "next" },
    ]);
  });

  it("a multi-byte character split across fragments is valid UTF-8", () => {
    const text = Buffer.from("안녕", "utf8");
    const bytes = Buffer.concat([
      frame(1, text.subarray(0, 2), { fin: false }),
      frame(0, text.subarray(2)),
    ]);
    expect(readEveryWay(bytes)).toEqual([{ message: "안녕" }]);
  });

  it("a close frame gives its code and reason, and nothing after it is read", () => {
    const bytes = Buffer.concat([frame(8, closeBody(4001, "bye now")), frame(1, "ignored")]);
    expect(readEveryWay(bytes)).toEqual([{ close: 4001, reason: "bye now" }]);
    expect(readEveryWay(frame(8, ""))).toEqual([{ close: 1005, reason: "" }]);
  });

  const failures: Array<[string, Buffer, number]> = [
    ["an unmasked frame", frame(1, "hi", { masked: false }), 1002],
    ["RSV1 without an extension", frame(1, "hi", { rsv: 4 }), 1002],
    ["RSV3", frame(1, "hi", { rsv: 1 }), 1002],
    ["an unknown data opcode", frame(3, "hi"), 1002],
    ["an unknown control opcode", frame(0xb, "hi"), 1002],
    ["a ping over 125 bytes", frame(9, "p".repeat(126)), 1002],
    ["a fragmented ping", frame(9, "p", { fin: false }), 1002],
    ["a continuation with no message", frame(0, "lost"), 1002],
    [
      "a new message inside a fragmented one",
      Buffer.concat([frame(1, "a", { fin: false }), frame(1, "b")]),
      1002,
    ],
    ["invalid UTF-8 in a text message", frame(1, Buffer.from([0x68, 0xc3, 0x28])), 1007],
    ["a close with a 1-byte body", frame(8, Buffer.from([3])), 1002],
    ["a close with code 1005 on the wire", frame(8, closeBody(1005)), 1002],
    ["a close with code 2999", frame(8, closeBody(2999)), 1002],
    ["a close reason that is not UTF-8", frame(8, Buffer.from([3, 0xe8, 0xff])), 1007],
    ["a message over the limit", frame(1, "z".repeat(1025)), 1009],
    [
      "fragments over the limit together",
      Buffer.concat([frame(1, "z".repeat(600), { fin: false }), frame(0, "z".repeat(600))]),
      1009,
    ],
  ];
  for (const [name, bytes, code] of failures) {
    it(`fails ${name} with ${code}`, () => {
      expect(readEveryWay(Buffer.concat([bytes, frame(1, "after")]))).toEqual([{ fail: code }]);
    });
  }

  it("binary messages are not checked as UTF-8", () => {
    const events = read(frame(2, Buffer.from([0xff, 0xfe])), [], 1024);
    expect(events).toHaveLength(1);
  });

  it("refuses a 64-bit length with its top bit set from the header alone", () => {
    const header = Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5]);
    expect(read(header, [], 1024)).toEqual([{ fail: 1002 }]);
    // Only three bytes of it: the top bit is already known.
    expect(read(header.subarray(0, 3), [], 1024)).toEqual([{ fail: 1002 }]);
  });

  it("fails an oversized message from its header, before any payload is buffered", () => {
    const header = frame(1, "z".repeat(2000)).subarray(0, 8);
    expect(read(header, [], 1024)).toEqual([{ fail: 1009 }]);
    expect(read(frame(1, "x", { length64: true }), [], 1024)).toEqual([{ message: "x" }]);
  });
});
