import { describe, expect, it } from "vitest";
import { ProtocolError } from "../errors.js";
import { parseTextLine } from "./parse-text.js";

const NOW = Date.UTC(2026, 10, 30, 12);

describe("/history in text mode", () => {
  it("takes a count, a time, or a nick first for the stored DMs with it", () => {
    expect(parseTextLine("/history", NOW)).toEqual({ type: "history" });
    expect(parseTextLine("/history 50", NOW)).toEqual({ type: "history", limit: 50 });
    expect(parseTextLine("/history since 2h", NOW)).toEqual({
      type: "history",
      dir: "after",
      ts: NOW - 2 * 3_600_000,
    });
    expect(parseTextLine("/history bob", NOW)).toEqual({ type: "history", nick: "bob" });
    expect(parseTextLine("/history bob 5", NOW)).toEqual({
      type: "history",
      nick: "bob",
      limit: 5,
    });
    expect(parseTextLine("/history bob since 1d", NOW)).toEqual({
      type: "history",
      nick: "bob",
      dir: "after",
      ts: NOW - 86_400_000,
    });
  });

  it("refuses a second nick or a bad time with the usage", () => {
    const twoNicks = parseTextLine("/history bob carol", NOW);
    expect(twoNicks).toBeInstanceOf(ProtocolError);
    expect((twoNicks as ProtocolError).code).toBe("CHAT_ERR_BAD_ARGUMENT");
    expect((twoNicks as ProtocolError).message).toMatch(/^Usage: \/history \[NICK\]/);
    expect((parseTextLine("/history bob since never", NOW) as ProtocolError).code).toBe(
      "CHAT_ERR_BAD_ARGUMENT",
    );
  });
});
