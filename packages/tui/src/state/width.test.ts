import { describe, expect, it } from "vitest";
import { graphemes, padToWidth, stringWidth, truncateToWidth, wideRanges } from "./width.js";

describe("stringWidth", () => {
  it("counts ASCII as one column each", () => {
    expect(stringWidth("hello, world")).toBe(12);
  });
  it("counts Hangul, CJK, kana and fullwidth forms as two columns", () => {
    expect(stringWidth("안녕하세요")).toBe(10);
    expect(stringWidth("漢字かなカナ")).toBe(12);
    expect(stringWidth("ＡＢ")).toBe(4);
  });
  it("counts emoji as two columns, each emoji of a ZWJ sequence too (as blessed lays them out)", () => {
    expect(stringWidth("😀")).toBe(2);
    expect(stringWidth("👨‍👩‍👧")).toBe(6);
    expect(stringWidth("👍\u{1F3FD}")).toBe(4);
  });
  it("counts emoji of the BMP drawn as emoji (East Asian Wide) as two, text-style ones as one", () => {
    expect(stringWidth("☕⭐✅✨")).toBe(8);
    expect(stringWidth("❤")).toBe(1);
    expect(stringWidth("→✓")).toBe(2);
  });
  it("counts combining marks and controls as zero", () => {
    expect(stringWidth("e\u0301")).toBe(1);
    expect(stringWidth("a\u0007b")).toBe(2);
  });
  it("keeps decomposed Hangul jamo as one two-column syllable", () => {
    expect(stringWidth("\u1100\u1161")).toBe(2);
    expect(stringWidth("\u1100\u1161\u11a8")).toBe(2);
  });
});

describe("truncateToWidth / padToWidth", () => {
  it("never splits a wide character at the edge", () => {
    expect(truncateToWidth("가나다", 5)).toEqual({ text: "가나", width: 4 });
  });
  it("pads to the exact width", () => {
    expect(padToWidth("가a", 6)).toBe("가a   ");
    expect(stringWidth(padToWidth("가나다라", 5))).toBe(5);
  });
  it("splits graphemes, keeping clusters whole", () => {
    expect(graphemes("a가👨‍👩‍👧e\u0301")).toEqual(["a", "가", "👨‍👩‍👧", "e\u0301"]);
  });
});

describe("wideRanges", () => {
  it("covers Hangul syllables, CJK and emoji, and leaves out narrow and ambiguous characters", () => {
    const ranges = wideRanges();
    const wide = (cp: number) => ranges.some(([from, to]) => cp >= from && cp <= to);
    expect(wide(0xac00) && wide(0xd7a3) && wide(0x4e00) && wide(0x1f600) && wide(0x2615)).toBe(
      true,
    );
    expect(wide(0x2460) || wide(0x2764) || wide(0xff71) || wide(0x1161)).toBe(false);
  });
});
