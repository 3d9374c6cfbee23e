import { describe, expect, it } from "vitest";
import { pickRoles } from "./broadcast.js";
import { spread } from "./context.js";

describe("spread", () => {
  it("picks ids evenly over the room, each once", () => {
    expect(spread(4, 100)).toEqual([0, 25, 50, 75]);
    expect(spread(3, 10, 1)).toEqual([1, 4, 7]);
    expect(spread(10, 3)).toEqual([0, 1, 2]);
  });
});

describe("pickRoles", () => {
  it("makes every sender a parser and adds receivers that do not send", () => {
    const { senders, parsers } = pickRoles(500, 10);
    expect(senders).toHaveLength(10);
    for (const id of senders) expect(parsers).toContain(id);
    expect(parsers.length).toBeGreaterThan(senders.length);
    expect(new Set(parsers).size).toBe(parsers.length);
  });
});
