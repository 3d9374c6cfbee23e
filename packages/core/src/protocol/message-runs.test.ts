import { describe, expect, it } from "vitest";
import type { MessageFrame, ServerFrame } from "./frames.js";
import { compactBatchLines, expandMessages } from "./message-runs.js";
import { parseServerFrames } from "./parse-server.js";

const message = (
  id: string,
  ts: number,
  from: string,
  text: string,
  room = "lobby",
): MessageFrame => ({
  type: "message",
  id,
  ts,
  room,
  from,
  text,
});

/** Every frame of the compact lines, runs expanded, as a compact client sees them. */
function expanded(lines: string): ServerFrame[] {
  return lines
    .split("\n")
    .filter((line) => line !== "")
    .flatMap((line) => {
      const { frames, error } = parseServerFrames(line);
      expect(error).toBeUndefined();
      return frames;
    });
}

describe("runs of messages (spec 4.6)", () => {
  it("a run of live messages of one room is one line that expands to the same frames", () => {
    const frames: ServerFrame[] = [
      message("1a", 1000, "alice", "hi"),
      message("1b", 1003, "bob", 'quotes " and \\ and\nnewline'),
      { ...message("1c", 1004, "alice", "waves"), action: true },
    ];
    const lines = compactBatchLines(frames);
    expect(lines.split("\n")).toHaveLength(2);
    expect(JSON.parse(lines)).toEqual({
      type: "messages",
      room: "lobby",
      ts: 1000,
      items: [
        ["1a", "alice", 0, "hi"],
        ["1b", "bob", 3, 'quotes " and \\ and\nnewline'],
        ["1c", "alice", 4, "waves", 1],
      ],
    });
    expect(expanded(lines)).toEqual(frames);
  });

  it("is about 60% of the bytes of a message frame each, for 64-byte messages", () => {
    const frames = Array.from({ length: 10 }, (_, i) =>
      message(`${1000 + i}`, 1796064006692, `nick-${i}`, "x".repeat(64)),
    );
    const plain = frames.map((frame) => `${JSON.stringify(frame)}\n`).join("");
    const compact = compactBatchLines(frames);
    expect(compact.length / plain.length).toBeLessThan(0.65);
  });

  it("keeps single messages, history and other frames as their usual lines, in order", () => {
    const frames: ServerFrame[] = [
      message("1", 5, "a", "alone"),
      { type: "join", ts: 6, room: "lobby", nick: "c" },
      message("2", 7, "a", "one"),
      message("3", 7, "b", "two"),
      { ...message("4", 1, "a", "old"), history: true },
      { ...message("5", 2, "a", "older"), history: true },
      message("6", 8, "a", "other room", "side"),
      message("7", 8, "a", "back", "lobby"),
    ];
    const lines = compactBatchLines(frames).split("\n").filter(Boolean);
    expect(lines.map((line) => JSON.parse(line).type)).toEqual([
      "message",
      "join",
      "messages",
      "message",
      "message",
      "message",
      "message",
    ]);
    expect(expanded(lines.join("\n"))).toEqual(frames);
  });

  it("a run that is not valid is a bad server frame, naming what is wrong", () => {
    const { frames, error } = parseServerFrames(
      '{"type":"messages","room":"lobby","ts":1,"items":[["1","a","late","x"]]}',
    );
    expect(frames).toEqual([]);
    expect(error?.code).toBe("CHAT_ERR_BAD_SERVER_FRAME");
    expect(error?.message).toMatch(/messages/);
  });

  it("expandMessages gives each item the run's room and its own time", () => {
    expect(
      expandMessages({ type: "messages", room: "r", ts: 10, items: [["9", "z", 2, "t"]] }),
    ).toEqual([message("9", 12, "z", "t", "r")]);
  });
});
