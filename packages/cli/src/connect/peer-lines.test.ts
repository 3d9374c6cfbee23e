import { describe, expect, it } from "vitest";
import { PeerLines } from "./peer-lines.js";

describe("PeerLines", () => {
  it("splits LF and CRLF lines, whole and byte by byte, with UTF-8 split across chunks", () => {
    const bytes = Buffer.from("hello\r\n한국어\nthird line\npartial", "utf8");
    for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
      const peer = new PeerLines();
      const lines = chunks.flatMap((chunk) => peer.push(chunk));
      expect(lines).toEqual(["hello", "한국어", "third line"]);
      expect(peer.takePartial()).toBe("partial");
      expect(peer.takePartial()).toBeUndefined();
    }
  });

  it("gives the unfinished tail at the end", () => {
    const peer = new PeerLines();
    expect(peer.push(Buffer.from("Enter your name: "))).toEqual([]);
    expect(peer.end()).toEqual(["Enter your name: "]);
  });
});
