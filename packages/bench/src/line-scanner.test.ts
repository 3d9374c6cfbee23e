import { describe, expect, it } from "vitest";
import { LineScanner } from "./line-scanner.js";
import { decodeMessage, MessageEncoder } from "./message.js";

/** Feeds `data` whole, byte by byte and at random split points; returns each run's outcome. */
function feedAllWays(data: Buffer, make: () => { scanner: LineScanner; seen: () => unknown }) {
  const outcomes: Array<{ count: number; seen: unknown }> = [];
  const splits: number[][] = [[data.length], Array.from({ length: data.length }, () => 1)];
  for (let trial = 0; trial < 20; trial++) {
    const sizes: number[] = [];
    let left = data.length;
    while (left > 0) {
      const n = Math.min(left, 1 + Math.floor(Math.random() * 90));
      sizes.push(n);
      left -= n;
    }
    splits.push(sizes);
  }
  for (const sizes of splits) {
    const { scanner, seen } = make();
    let at = 0;
    for (const n of sizes) {
      scanner.push(data.subarray(at, at + n));
      at += n;
    }
    outcomes.push({ count: scanner.count, seen: seen() });
  }
  return outcomes;
}

const encoder = new MessageEncoder(64);
const message = (sender: number, seq: number) =>
  encoder.encode(sender, seq, 1, () => 1000 + seq).toString("latin1");

const stream = Buffer.from(
  [
    "*** tcpchat/1 tcpchat 0.1.0: welcome, you are guest-1 in #lobby. /help lists commands.\n",
    `#lobby <guest-1> ${message(1, 0)}`,
    "#lobby --> 120 joined, 3 left in the last 1s\n",
    `#lobby <guest-2> ${message(2, 0)}`.replace("\n", "\r\n"),
    `#lobby <a-much-longer-nick-here> ${message(1, 1)}`,
    "#lobby <-- bob left (quit: bye)\n",
    `#lobby <guest-2> ${message(2, 1)}`,
  ].join(""),
  "latin1",
);

/** A JSON-lines scanner that decodes each bench message it is handed (`sender:seq`). */
function decodingJsonScanner() {
  const decoded: string[] = [];
  const scanner = new LineScanner(
    66,
    (buf, _start, end) => {
      const m = decodeMessage(buf, end, 64);
      if (m) decoded.push(`${m.sender}:${m.seq}`);
    },
    Buffer.from('"}'),
  );
  return { scanner, seen: () => decoded };
}

describe("LineScanner", () => {
  it("counts bench messages and nothing else, however the stream is split", () => {
    const outcomes = feedAllWays(stream, () => {
      const scanner = new LineScanner();
      return { scanner, seen: () => null };
    });
    for (const outcome of outcomes) expect(outcome.count).toBe(4);
  });

  it("hands every complete line to the handler with enough bytes to decode it", () => {
    const outcomes = feedAllWays(stream, () => {
      const decoded: string[] = [];
      const scanner = new LineScanner(66, (buf, _start, end) => {
        const m = decodeMessage(buf, end, 64);
        if (m) decoded.push(`${m.sender}:${m.seq}:${m.sentAtUs}`);
      });
      return { scanner, seen: () => decoded };
    });
    for (const outcome of outcomes)
      expect(outcome.seen).toEqual(["1:0:1000", "2:0:1000", "1:1:1001", "2:1:1001"]);
  });

  it("keeps no more than its limit of a long line and still counts it", () => {
    const scanner = new LineScanner(2);
    scanner.push(Buffer.alloc(100_000, "a"));
    expect(scanner.push(Buffer.from("~\n"))).toBe(1);
    expect(scanner.count).toBe(1);
  });

  it("does not count a marker that belongs to a previous line", () => {
    const scanner = new LineScanner();
    expect(scanner.push(Buffer.from("x~\n\n\r\n"))).toBe(1);
  });

  it("reads JSON message lines through their trailer, however the stream is split", () => {
    const json = (from: string, text: string) =>
      `${JSON.stringify({ type: "message", id: "7", ts: 1, room: "lobby", from, text })}\n`;
    const jsonStream = Buffer.from(
      [
        '{"type":"welcome","proto":1,"nick":"guest-1"}\n',
        json("guest-1", message(1, 0).slice(0, -1)),
        '{"type":"crowd","ts":1,"room":"lobby","joined":120,"left":3,"windowMs":1000}\n',
        json("guest-2", message(2, 0).slice(0, -1)),
        // A nick list's items end in `"]` too: only a unit ending in `~` counts, and the bench's
        // nicks never end in one.
        '{"type":"presence","room":"lobby","nicks":["a~b"],"count":1}\n',
        json("guest-2", message(2, 1).slice(0, -1)),
      ].join(""),
      "latin1",
    );
    const outcomes = feedAllWays(jsonStream, decodingJsonScanner);
    for (const outcome of outcomes) {
      expect(outcome.count).toBe(3);
      expect(outcome.seen).toEqual(["1:0", "2:0", "2:1"]);
    }
    // Without the trailer the same stream holds no text-mode message.
    const plain = new LineScanner();
    plain.push(jsonStream);
    expect(plain.count).toBe(0);
  });

  it("reads each message of a run (spec 4.6) as a line of its own, however the stream is split", () => {
    const item = (id: string, from: string, dt: number, text: string) =>
      JSON.stringify([id, from, dt, text]);
    const runStream = Buffer.from(
      [
        '{"type":"welcome","proto":1,"nick":"guest-1","compact":true}\n',
        `{"type":"messages","room":"lobby","ts":5,"items":[${item("1", "guest-1", 0, message(1, 0).slice(0, -1))},${item("2", "guest-2", 1, message(2, 0).slice(0, -1))}]}\n`,
        '{"type":"presence","room":"lobby","nicks":["a","b"],"count":2}\n',
        `${JSON.stringify({ type: "message", id: "3", ts: 6, room: "lobby", from: "guest-2", text: message(2, 1).slice(0, -1) })}\n`,
        `{"type":"messages","room":"lobby","ts":7,"items":[${item("4", "guest-1", 0, message(1, 1).slice(0, -1))},${item("5", "guest-1", 0, message(1, 2).slice(0, -1))}]}\n`,
      ].join(""),
      "latin1",
    );
    const outcomes = feedAllWays(runStream, decodingJsonScanner);
    for (const outcome of outcomes) {
      expect(outcome.count).toBe(5);
      expect(outcome.seen).toEqual(["1:0", "2:0", "2:1", "1:1", "1:2"]);
    }
  });
});
