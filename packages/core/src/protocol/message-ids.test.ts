import { describe, expect, it } from "vitest";
import { messageIdIndex, messageIdValue, oldestMessageId } from "./message-ids.js";

describe("message ids", () => {
  it("reads base-36 ids, skips lines without one and orders by value, not by text", () => {
    expect(messageIdValue("z")).toBe(35);
    expect(messageIdValue("10")).toBe(36);
    expect(messageIdValue(undefined)).toBeNaN();
    // "10" (36) is newer than "z" (35), though it sorts first as text.
    const lines = [{}, { id: "z" }, { id: "10" }, { id: "9" }];
    expect(oldestMessageId(lines)).toBe(9);
    expect(oldestMessageId([{}, {}])).toBeUndefined();
    expect(messageIdIndex([{ id: "a" }, { id: "z" }, { id: "10" }], 20)).toBe(1);
    expect(messageIdIndex([{ id: "a" }], 20)).toBe(-1);
  });
});
