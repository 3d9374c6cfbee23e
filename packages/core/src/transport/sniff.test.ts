import { describe, expect, it } from "vitest";
import { classifyFirstBytes, FIRST_BYTES, type FirstBytes, SNIFF_MAX_BYTES } from "./sniff.js";

/** What a reader sees when the bytes arrive one at a time: the first answer that is not need-more. */
function byteByByte(bytes: Buffer): FirstBytes {
  for (let end = 1; end <= bytes.length; end += 1) {
    const kind = classifyFirstBytes(bytes.subarray(0, end));
    if (kind !== FIRST_BYTES.needMore) return kind;
  }
  return FIRST_BYTES.needMore;
}

const CASES: Array<[string, Buffer, FirstBytes]> = [
  ["a TLS ClientHello", Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), "tls"],
  ["GET", Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "http"],
  ["POST", Buffer.from("POST /x HTTP/1.1\r\n"), "http"],
  ["HEAD", Buffer.from("HEAD / HTTP/1.1\r\n"), "http"],
  ["PUT", Buffer.from("PUT /x HTTP/1.1\r\n"), "http"],
  ["DELETE", Buffer.from("DELETE /x HTTP/1.1\r\n"), "http"],
  ["OPTIONS", Buffer.from("OPTIONS * HTTP/1.1\r\n"), "http"],
  ["PATCH", Buffer.from("PATCH /x HTTP/1.1\r\n"), "http"],
  ["a JSON hello", Buffer.from('{"type":"hello","proto":1}\n'), "json"],
  ["a text line", Buffer.from("hello everyone\n"), "text"],
  ["a command", Buffer.from("/nick alice\n"), "text"],
  ["Hangul", Buffer.from("안녕하세요\n"), "text"],
  ["a word that starts like a method", Buffer.from("GETTING there\n"), "text"],
  ["lower-case get", Buffer.from("get / HTTP/1.1\r\n"), "text"],
  ["a bare newline", Buffer.from("\n"), "text"],
  ["PUTTY", Buffer.from("PUTTY\n"), "text"],
];

describe("classifyFirstBytes", () => {
  for (const [name, bytes, expected] of CASES) {
    it(`${name}: whole`, () => {
      expect(classifyFirstBytes(bytes)).toBe(expected);
    });
    it(`${name}: byte by byte`, () => {
      expect(byteByByte(bytes)).toBe(expected);
    });
  }

  it("waits on nothing and on strict prefixes of a method, never longer than the longest", () => {
    expect(classifyFirstBytes(Buffer.alloc(0))).toBe("need-more");
    for (const prefix of ["G", "GE", "GET", "P", "PO", "PU", "PA", "OPTION", "DELET", "HEA"]) {
      expect(classifyFirstBytes(Buffer.from(prefix))).toBe("need-more");
    }
    expect(SNIFF_MAX_BYTES).toBe("OPTIONS ".length);
  });

  it("decides at the first byte that rules every method out", () => {
    expect(classifyFirstBytes(Buffer.from("GX"))).toBe("text");
    expect(classifyFirstBytes(Buffer.from("GET\n"))).toBe("text");
    expect(classifyFirstBytes(Buffer.from("x"))).toBe("text");
  });
});
