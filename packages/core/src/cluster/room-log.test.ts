import { describe, expect, it } from "vitest";
import { decodeEnvelope, decodePublished, encodeEnvelope } from "./envelope.js";
import { RoomLog } from "./room-log.js";

describe("RoomLog", () => {
  it("delivers the next position, drops older ones and reports gaps", () => {
    const log = new RoomLog();
    log.start("e1", 4);
    expect(log.check("e1", 4)).toEqual({ kind: "duplicate" });
    expect(log.check("e1", 5)).toEqual({ kind: "deliver" });
    expect(log.check("e1", 8)).toEqual({ kind: "gap", from: 5, to: 7 });
    expect(log.advance("e1", 5, "n1", 1)).toBe(true);
    expect(log.check("e1", 6)).toEqual({ kind: "deliver" });
  });

  it("reads a new epoch from its first position", () => {
    const log = new RoomLog();
    log.start("old", 40);
    expect(log.check("new", 1)).toEqual({ kind: "deliver" });
    expect(log.check("new", 3)).toEqual({ kind: "gap", from: 1, to: 2 });
  });

  it("drops a batch its publisher sent twice, even at a new position or in a new epoch", () => {
    const log = new RoomLog();
    expect(log.advance("e1", 1, "n1", 1)).toBe(true);
    expect(log.advance("e1", 2, "n1", 2)).toBe(true);
    // The reply to batch 2 was lost, so n1 sent it again: Redis gave it position 3.
    expect(log.advance("e1", 3, "n1", 2)).toBe(false);
    expect(log.advance("e2", 1, "n1", 2)).toBe(false);
    expect(log.advance("e2", 2, "n2", 1)).toBe(true);
    expect(log.seq).toBe(2);
    log.forgetOrigin("n1");
    expect(log.advance("e2", 3, "n1", 1)).toBe(true);
  });
});

describe("envelopes", () => {
  it("round-trip, and what the publish script sends parses into epoch, seq and envelope", () => {
    const envelope = {
      origin: "n1",
      batch: 3,
      frames: [
        { type: "message" as const, id: "n1-1", ts: 1, room: "lobby", from: "a", text: "hi there" },
      ],
      members: ["+a"],
    };
    const text = encodeEnvelope(envelope);
    expect(decodeEnvelope(text)).toEqual(envelope);
    expect(decodePublished(`ab12 17 ${text}`)).toEqual({ epoch: "ab12", seq: 17, envelope });
  });

  it("rejects text that is not an envelope", () => {
    expect(decodeEnvelope("not json")).toBeNull();
    expect(decodeEnvelope('{"origin":1}')).toBeNull();
    expect(decodePublished("ab12 x {}")).toBeNull();
    expect(decodePublished("nospace")).toBeNull();
  });
});
