import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  TELNET_COMMAND as C,
  TELNET_OPTION as O,
  type TelnetEvent,
  TelnetFilter,
  type TelnetFilterOptions,
} from "./telnet.js";

const { IAC, DO, DONT, WILL, WONT, SB, SE } = C;
const NAWS = 31;
const TTYPE = 24;
/** What the filter sends on first sight of telnet: DO BINARY, then the echo reset. */
const FIRST_SIGHT = [IAC, DO, O.TRANSMIT_BINARY, IAC, WILL, O.ECHO, IAC, WONT, O.ECHO];

interface Result {
  data: number[];
  replies: number[];
  /** Events with offsets counted from the start of the whole stream's data. */
  events: TelnetEvent[];
}

/** Feeds `bytes` in the given pieces to one filter and joins what every push produced. */
function run(bytes: Uint8Array, cuts: number[], options?: TelnetFilterOptions): Result {
  const filter = new TelnetFilter(options);
  const result: Result = { data: [], replies: [], events: [] };
  let start = 0;
  for (const cut of [...cuts, bytes.length]) {
    const out = filter.push(bytes.subarray(start, cut));
    for (const event of out.events) {
      result.events.push(
        "offset" in event ? { ...event, offset: event.offset + result.data.length } : event,
      );
    }
    result.data.push(...out.data);
    result.replies.push(...out.replies);
    start = cut;
  }
  return result;
}

/** Every fixture runs whole, byte by byte, and at random split points (STYLE.md). */
function everyChunking(bytes: Uint8Array, options?: TelnetFilterOptions): Result {
  const whole = run(bytes, [], options);
  const byteByByte = run(
    bytes,
    Array.from({ length: bytes.length }, (_, i) => i),
    options,
  );
  expect(byteByByte).toEqual(whole);
  for (let attempt = 0; attempt < 20; attempt++) {
    const cuts = Array.from({ length: 3 }, () =>
      Math.floor(Math.random() * (bytes.length + 1)),
    ).sort((a, b) => a - b);
    expect(run(bytes, cuts, options)).toEqual(whole);
  }
  return whole;
}

const bytes = (...parts: Array<string | number[]>): Buffer =>
  Buffer.concat(
    parts.map((part) => (typeof part === "string" ? Buffer.from(part) : Buffer.from(part))),
  );

/** Fixtures with the first-sight negotiation off, so each shows one rule. */
const QUIET = { requestBinaryInput: false };
const SAW: TelnetEvent = { type: "saw-telnet" };

const FIXTURES: Array<[string, Buffer, Partial<Result>]> = [
  [
    "text without IAC passes as is",
    bytes("hello 안녕\r\n"),
    { data: [...bytes("hello 안녕\r\n")] },
  ],
  ["IAC IAC is a data byte 0xFF", bytes("a", [IAC, IAC], "b"), { data: [0x61, 0xff, 0x62] }],
  [
    "DO TIMING-MARK is answered WILL every time (RFC 860)",
    bytes([IAC, DO, O.TIMING_MARK, IAC, DO, O.TIMING_MARK]),
    { replies: [IAC, WILL, O.TIMING_MARK, IAC, WILL, O.TIMING_MARK] },
  ],
  [
    "options we do not support are refused",
    bytes([IAC, DO, NAWS, IAC, WILL, TTYPE]),
    { replies: [IAC, WONT, NAWS, IAC, DONT, TTYPE] },
  ],
  [
    "a WONT or DONT that changes nothing is not answered (no loops)",
    bytes([IAC, DONT, NAWS, IAC, WONT, TTYPE, IAC, DONT, O.TIMING_MARK, IAC, WONT, O.ECHO]),
    {},
  ],
  [
    "subnegotiations are skipped, IAC IAC inside included",
    bytes("a", [IAC, SB, NAWS, 0, 80, 0, IAC, IAC, IAC, SE], "b"),
    { data: [...bytes("ab")] },
  ],
  [
    "a subnegotiation that lost its SE ends at the next command",
    bytes([IAC, SB, TTYPE, 0, 0x41, IAC, DO, NAWS], "x"),
    { data: [0x78], replies: [IAC, WONT, NAWS] },
  ],
  [
    "NOP, DM, GA and a stray SE carry nothing",
    bytes("a", [IAC, C.NOP, IAC, C.DM, IAC, C.GA, IAC, SE], "b"),
    { data: [...bytes("ab")] },
  ],
  [
    "commands typed in place of bytes are reported where they were",
    bytes("ab", [IAC, C.IP, IAC, DO, O.TIMING_MARK], "c", [IAC, C.BRK], "\n"),
    {
      data: [...bytes("abc\n")],
      replies: [IAC, WILL, O.TIMING_MARK],
      events: [
        { type: "lost-bytes", offset: 2, command: C.IP },
        { type: "lost-bytes", offset: 3, command: C.BRK },
      ],
    },
  ],
  [
    // What Debian's telnet sent for "안녕하세요 한국어" before TRANSMIT-BINARY: 0x9a of 요
    // became IAC SUSP, 0x9c of 한 IAC BRK, each with IAC DO TIMING-MARK (0x85 of 녕 it ate).
    "a Hangul line as 7-bit telnet sends it",
    Buffer.from("ec9588eb95ed9598ec84b8ecffedfffd069420ed95fff3fffd06eab5adec96b40d0a", "hex"),
    {
      data: [...Buffer.from("ec9588eb95ed9598ec84b8ec9420ed95eab5adec96b40d0a", "hex")],
      replies: [IAC, WILL, O.TIMING_MARK, IAC, WILL, O.TIMING_MARK],
      events: [
        { type: "lost-bytes", offset: 12, command: C.SUSP },
        { type: "lost-bytes", offset: 16, command: C.BRK },
      ],
    },
  ],
  [
    "an unasked WILL TRANSMIT-BINARY is accepted; WONT then turns it off once",
    bytes([
      IAC,
      WILL,
      O.TRANSMIT_BINARY,
      IAC,
      WONT,
      O.TRANSMIT_BINARY,
      IAC,
      WONT,
      O.TRANSMIT_BINARY,
    ]),
    {
      replies: [IAC, DO, O.TRANSMIT_BINARY, IAC, DONT, O.TRANSMIT_BINARY],
      events: [
        { type: "binary-input", enabled: true },
        { type: "binary-input", enabled: false },
      ],
    },
  ],
];

describe("TelnetFilter", () => {
  for (const [name, input, expected] of FIXTURES) {
    it(name, () => {
      const result = everyChunking(input, QUIET);
      const sawTelnet = input.includes(IAC);
      expect(result).toEqual({
        data: expected.data ?? [],
        replies: expected.replies ?? [],
        events: [...(sawTelnet ? [SAW] : []), ...(expected.events ?? [])],
      });
    });
  }

  it("on first sight asks for 8-bit input and resets telnet's echo, once", () => {
    const result = everyChunking(
      bytes("x", [IAC, DO, O.TIMING_MARK], "y", [IAC, DO, O.TIMING_MARK]),
    );
    expect(result.replies).toEqual([
      ...FIRST_SIGHT,
      ...[IAC, WILL, O.TIMING_MARK, IAC, WILL, O.TIMING_MARK],
    ]);
    expect(result.events).toEqual([SAW]);
  });

  it("takes telnet's answers to the first-sight negotiation without answering them", () => {
    const answers = [IAC, WILL, O.TRANSMIT_BINARY, IAC, DO, O.ECHO, IAC, DONT, O.ECHO];
    const result = everyChunking(bytes([IAC, C.NOP, ...answers]));
    expect(result.replies).toEqual(FIRST_SIGHT);
    expect(result.events).toEqual([SAW, { type: "binary-input", enabled: true }]);
  });

  it("refuses DO ECHO once the echo reset is over", () => {
    const filter = new TelnetFilter();
    filter.push(bytes([IAC, C.NOP, IAC, DO, O.ECHO, IAC, DONT, O.ECHO]));
    expect([...filter.push(bytes([IAC, DO, O.ECHO])).replies]).toEqual([IAC, WONT, O.ECHO]);
  });

  it("says when the peer sends 8-bit data", () => {
    const filter = new TelnetFilter();
    expect(filter.telnet).toBe(false);
    filter.push(bytes([IAC, C.NOP]));
    expect(filter.telnet).toBe(true);
    expect(filter.binary).toBe(false);
    filter.push(bytes([IAC, WILL, O.TRANSMIT_BINARY]));
    expect(filter.binary).toBe(true);
    filter.push(bytes([IAC, WONT, O.TRANSMIT_BINARY]));
    expect(filter.binary).toBe(false);
  });

  it("a peer that refuses binary is not asked again", () => {
    const filter = new TelnetFilter();
    const first = filter.push(bytes([IAC, DONT, NAWS]));
    expect([...first.replies]).toEqual(FIRST_SIGHT);
    const refused = filter.push(bytes([IAC, WONT, O.TRANSMIT_BINARY, IAC, DONT, NAWS]));
    expect(refused.replies.length).toBe(0);
    expect(filter.binary).toBe(false);
  });

  it("gives up a subnegotiation at its byte limit; the bytes after it are data", () => {
    const input = bytes([IAC, SB, TTYPE], "0123456789", "\n");
    const result = everyChunking(input, { ...QUIET, maxSubnegotiationBytes: 4 });
    expect(Buffer.from(result.data).toString()).toBe("456789\n");
    expect(result.events).toEqual([SAW, { type: "subnegotiation-overflow", option: TTYPE }]);
  });

  it("counts escaped 0xFF bytes against the subnegotiation limit", () => {
    const input = bytes([IAC, SB, TTYPE, IAC, IAC, IAC, IAC, IAC, IAC], "x");
    const result = everyChunking(input, { ...QUIET, maxSubnegotiationBytes: 2 });
    expect(result.data).toEqual([0x78]);
    expect(result.events).toEqual([SAW, { type: "subnegotiation-overflow", option: TTYPE }]);
  });

  it("a subnegotiation of a megabyte costs no buffer: the filter keeps no bytes of it", () => {
    const filter = new TelnetFilter({ ...QUIET, maxSubnegotiationBytes: 1 << 30 });
    filter.push(bytes([IAC, SB, TTYPE]));
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 16; i++) expect(filter.push(chunk).data.length).toBe(0);
    expect(Buffer.from(filter.push(bytes([IAC, SE], "ok")).data).toString()).toBe("ok");
  });

  it("returns the chunk itself when it holds no command (no copy on the common path)", () => {
    const filter = new TelnetFilter();
    const chunk = Buffer.from("plain line\n");
    expect(filter.push(chunk).data).toBe(chunk);
  });

  it("rejects a bad limit", () => {
    expect(() => new TelnetFilter({ maxSubnegotiationBytes: -1 })).toThrow(RangeError);
  });
});

describe("TelnetFilter properties", () => {
  const chunked = fc
    .tuple(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 6 }))
    .map(([data, cuts]) => ({
      data,
      cuts: cuts.map((cut) => cut % (data.length + 1)).sort((a, b) => a - b),
    }));

  it("never throws on arbitrary bytes, and chunking never changes the result", () => {
    fc.assert(
      fc.property(chunked, ({ data, cuts }) => {
        const whole = run(data, []);
        expect(run(data, cuts)).toEqual(whole);
        expect(whole.data.length).toBeLessThanOrEqual(data.length);
        // One answer per command at most (3 bytes each), plus the first-sight negotiation.
        expect(whole.replies.length).toBeLessThanOrEqual(data.length + FIRST_SIGHT.length);
      }),
    );
  });

  it("passes data without 0xFF through untouched, with no replies and no events", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }).map((data) => data.map((b) => (b === IAC ? 0 : b))),
        fc.array(fc.nat(300), { maxLength: 6 }),
        (data, cuts) => {
          const sorted = cuts.map((cut) => cut % (data.length + 1)).sort((a, b) => a - b);
          expect(run(data, sorted)).toEqual({ data: [...data], replies: [], events: [] });
        },
      ),
    );
  });

  it("gives back any bytes escaped as telnet sends them (0xFF as IAC IAC)", () => {
    fc.assert(
      fc.property(chunked, ({ data, cuts }) => {
        const escaped = Buffer.from([...data].flatMap((b) => (b === IAC ? [IAC, IAC] : [b])));
        const result = run(
          escaped,
          cuts.map((cut) => Math.min(cut, escaped.length)),
        );
        expect(result.data).toEqual([...data]);
      }),
    );
  });
});
