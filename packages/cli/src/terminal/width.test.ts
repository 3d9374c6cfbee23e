import { describe, expect, it } from "vitest";
import { displayWidth, formatColumns, padToColumns } from "./width.js";

describe("displayWidth", () => {
  it("counts Hangul and CJK as two columns, ASCII and ambiguous symbols as one, marks as none", () => {
    expect(displayWidth("alice")).toBe(5);
    expect(displayWidth("김민지")).toBe(6);
    expect(displayWidth("漢字")).toBe(4);
    expect(displayWidth("①→·")).toBe(3);
    expect(displayWidth("e\u0301")).toBe(1);
    expect(displayWidth("😀")).toBe(2);
  });
});

describe("formatColumns", () => {
  it("aligns columns by display width, so a Korean nick does not push the rest of its row", () => {
    const lines = formatColumns([
      ["nick", "session", "address"],
      ["김민지", "s1", "127.0.0.1:5000"],
      ["bob", "s22", "[::1]:5001"],
    ]);
    expect(lines).toEqual([
      "nick    session  address",
      "김민지  s1       127.0.0.1:5000",
      "bob     s22      [::1]:5001",
    ]);
    const starts = lines.map((l) => displayWidth(l.slice(0, l.indexOf("s"))));
    expect(new Set(starts).size).toBe(1);
  });

  it("pads to a width, never cutting", () => {
    expect(padToColumns("가나", 6)).toBe("가나  ");
    expect(padToColumns("가나다라", 6)).toBe("가나다라");
  });
});
