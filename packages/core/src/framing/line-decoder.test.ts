import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FramingError } from "../errors.js";
import { type DecodedLine, LineDecoder } from "./line-decoder.js";
import { encodeLine } from "./line-encoder.js";

type Outcome = string | { error: string };

function outcome(items: DecodedLine[]): Outcome[] {
  return items.map((item) => (typeof item === "string" ? item : { error: item.code }));
}

/** Feeds `bytes` in the given pieces and collects every line and error, then end(). */
function decode(bytes: Buffer, cuts: number[], maxLineBytes?: number): Outcome[] {
  const decoder = new LineDecoder(maxLineBytes === undefined ? {} : { maxLineBytes });
  const out: DecodedLine[] = [];
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...decoder.push(bytes.subarray(start, cut)));
    start = cut;
  }
  out.push(...decoder.end());
  return outcome(out);
}

/** Every fixture runs whole, byte by byte, and at random split points (STYLE.md). */
function everyChunking(bytes: Buffer, maxLineBytes?: number): Outcome[] {
  const whole = decode(bytes, [], maxLineBytes);
  const byteByByte = decode(
    bytes,
    Array.from({ length: bytes.length }, (_, i) => i),
    maxLineBytes,
  );
  expect(byteByByte).toEqual(whole);
  for (let run = 0; run < 20; run++) {
    const cuts = Array.from({ length: 3 }, () =>
      Math.floor(Math.random() * (bytes.length + 1)),
    ).sort((a, b) => a - b);
    expect(decode(bytes, cuts, maxLineBytes)).toEqual(whole);
  }
  return whole;
}

const FIXTURES: Array<[string, Buffer, Outcome[], number?]> = [
  ["LF lines", Buffer.from("a\nbc\n"), ["a", "bc"]],
  ["CRLF lines", Buffer.from("a\r\nbc\r\n"), ["a", "bc"]],
  ["empty lines", Buffer.from("\n\r\n\n"), ["", "", ""]],
  ["lone CR kept as data", Buffer.from("a\rb\n"), ["a\rb"]],
  ["final line without ending", Buffer.from("a\nlast"), ["a", "last"]],
  ["Korean split inside characters", Buffer.from("안녕하세요\n세계\n"), ["안녕하세요", "세계"]],
  ["emoji (4-byte UTF-8)", Buffer.from("🎉👍🏽\n"), ["🎉👍🏽"]],
  [
    "invalid UTF-8 costs one line",
    Buffer.from([0x61, 0xff, 0x0a, 0x62, 0x0a]),
    [{ error: "CHAT_ERR_INVALID_UTF8" }, "b"],
  ],
  [
    "overlong UTF-8 encoding",
    Buffer.from([0xc0, 0xaf, 0x0a]),
    [{ error: "CHAT_ERR_INVALID_UTF8" }],
  ],
  [
    "truncated character before LF",
    Buffer.from([0xea, 0xb0, 0x0a, 0x6f, 0x6b, 0x0a]),
    [{ error: "CHAT_ERR_INVALID_UTF8" }, "ok"],
  ],
  ["line of exactly the limit", Buffer.from("abcd\n"), ["abcd"], 4],
  ["line of exactly the limit with CRLF", Buffer.from("abcd\r\n"), ["abcd"], 4],
  [
    "one byte over the limit",
    Buffer.from("abcde\nok\n"),
    [{ error: "CHAT_ERR_LINE_TOO_LONG" }, "ok"],
    4,
  ],
  [
    "limit counts bytes, not characters",
    Buffer.from("가나\n가\n"),
    [{ error: "CHAT_ERR_LINE_TOO_LONG" }, "가"],
    4,
  ],
  [
    "long line discarded up to its LF",
    Buffer.from(`${"x".repeat(100)}\nafter\n`),
    [{ error: "CHAT_ERR_LINE_TOO_LONG" }, "after"],
    8,
  ],
  [
    "long unterminated line at end",
    Buffer.from("x".repeat(100)),
    [{ error: "CHAT_ERR_LINE_TOO_LONG" }],
    8,
  ],
];

describe("LineDecoder", () => {
  for (const [name, bytes, expected, limit] of FIXTURES) {
    it(`${name}: same result whole, byte by byte and at random splits`, () => {
      expect(everyChunking(bytes, limit)).toEqual(expected);
    });
  }

  it("reports the error with its code, message and hint", () => {
    const [error] = new LineDecoder({ maxLineBytes: 4 }).push(Buffer.from("toolong\n"));
    expect(error).toBeInstanceOf(FramingError);
    expect(error).toMatchObject({
      code: "CHAT_ERR_LINE_TOO_LONG",
      message: "The line is longer than 4 bytes and was discarded.",
      hint: expect.stringMatching(/Split the text/),
    });
  });

  it("fails an endless line as soon as it passes the limit, without waiting for LF", () => {
    const decoder = new LineDecoder({ maxLineBytes: 1024 });
    expect(decoder.push(Buffer.alloc(1000, 0x78))).toEqual([]);
    expect(outcome(decoder.push(Buffer.alloc(1000, 0x78)))).toEqual([
      { error: "CHAT_ERR_LINE_TOO_LONG" },
    ]);
    // Whatever follows is discarded at no cost until the LF.
    expect(decoder.push(Buffer.alloc(1024 * 1024, 0x78))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(Buffer.from("\nok\n"))).toEqual(["ok"]);
  });

  it("holds no buffer between lines", () => {
    const decoder = new LineDecoder();
    decoder.push(Buffer.from("partial"));
    expect(decoder.bufferedBytes).toBe(7);
    decoder.push(Buffer.from(" line\n"));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it("accepts Uint8Array chunks", () => {
    expect(new LineDecoder().push(new TextEncoder().encode("한\n"))).toEqual(["한"]);
  });

  it("refuses a non-positive limit", () => {
    expect(() => new LineDecoder({ maxLineBytes: 0 })).toThrow(RangeError);
  });
});

describe("LineDecoder properties", () => {
  const lineText = fc.string({ unit: "grapheme", maxLength: 40 }).filter((s) => !/[\r\n]/.test(s));

  it("any lines under any chunking decode to the same lines", () => {
    fc.assert(
      fc.property(
        fc.array(lineText, { maxLength: 20 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        (lines, crlf, rawCuts) => {
          const bytes = Buffer.from(lines.map((l) => l + (crlf ? "\r\n" : "\n")).join(""));
          const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
          expect(decode(bytes, cuts)).toEqual(lines);
        },
      ),
    );
  });

  it("random bytes never throw, and decoding does not depend on chunking", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (raw, rawCuts) => {
          const bytes = Buffer.from(raw);
          const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
          expect(decode(bytes, cuts, 16)).toEqual(decode(bytes, [], 16));
        },
      ),
    );
  });

  it("a 16 KiB line arriving one byte at a time decodes whole", () => {
    const decoder = new LineDecoder();
    const byte = Buffer.from("x");
    for (let i = 0; i < 16 * 1024; i++) decoder.push(byte);
    expect(decoder.push(Buffer.from("\n"))).toEqual(["x".repeat(16 * 1024)]);
  });
});

describe("LineDecoder with a line budget", () => {
  it("stops after maxLines and says how much of the chunk it took", () => {
    const decoder = new LineDecoder();
    const chunk = Buffer.from("one\r\ntwo\nthree\nfour");
    expect(decoder.push(chunk, 2)).toEqual(["one", "two"]);
    expect(decoder.consumed).toBe(9);
    // The rest was left to the caller, not buffered: it comes again, and decodes the same.
    expect(decoder.midLine).toBe(false);
    expect(decoder.push(chunk.subarray(9), 5)).toEqual(["three"]);
    expect(decoder.consumed).toBe(chunk.length - 9);
    expect(decoder.bufferedBytes).toBe(4);
    expect(decoder.push(Buffer.from("\n"), 1)).toEqual(["four"]);
  });

  it("decodes any chunking under any budget as the whole stream does", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "bc", "\n", "\r\n", "한"), { maxLength: 40 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 7 }),
        (parts, budget, cut) => {
          const stream = Buffer.from(parts.join(""));
          const expected = new LineDecoder().push(stream);
          const decoder = new LineDecoder();
          const got: DecodedLine[] = [];
          for (let at = 0; at < stream.length; at += cut) {
            let chunk = stream.subarray(at, Math.min(stream.length, at + cut));
            while (chunk.length > 0) {
              got.push(...decoder.push(chunk, budget));
              chunk = chunk.subarray(decoder.consumed);
            }
          }
          expect(got).toEqual(expected);
        },
      ),
    );
  });
});

describe("encodeLine", () => {
  it("encodes UTF-8 with LF", () => {
    expect(encodeLine("안녕")).toEqual(Buffer.from("안녕\n"));
  });
  it("refuses embedded line breaks with a stable code", () => {
    for (const text of ["a\nb", "a\rb", "\n"]) {
      expect(() => encodeLine(text)).toThrow(
        expect.objectContaining({ code: "CHAT_ERR_LINE_BREAK_IN_TEXT" }),
      );
    }
  });
});
