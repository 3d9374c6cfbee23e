import { describe, expect, it } from "vitest";
import { newBuffer } from "./buffers.js";
import { formatLine, visibleRows, wrapText } from "./format.js";
import type { ChatBuffer, Line } from "./types.js";
import { stringWidth } from "./width.js";

function rowText(row: readonly { text: string }[]): string {
  return row.map((s) => s.text).join("");
}

describe("wrapText", () => {
  it("breaks after spaces and never exceeds the width with wide characters", () => {
    const rows = wrapText("안녕하세요 여러분 반갑습니다 오늘도 좋은 하루", 12, 12);
    for (const row of rows) expect(stringWidth(row)).toBeLessThanOrEqual(12);
    expect(rows.join("")).toBe("안녕하세요 여러분 반갑습니다 오늘도 좋은 하루");
    expect(rows[0]).toBe("안녕하세요 ");
  });

  it("hard-breaks a word longer than the width without splitting a syllable", () => {
    const rows = wrapText("가".repeat(7), 5, 5);
    expect(rows).toEqual(["가가", "가가", "가가", "가"]);
  });
});

describe("formatLine", () => {
  it("puts the error hint on its own rows", () => {
    const line: Line = {
      seq: 1,
      ts: 0,
      kind: "error",
      code: "CHAT_ERR_X",
      text: "bad",
      hint: "do this",
    };
    const rows = formatLine(line, 60).map(rowText);
    expect(rows[0]).toContain("!!! CHAT_ERR_X: bad");
    expect(rows[1]).toContain("hint: do this");
  });
});

describe("visibleRows", () => {
  function bufferWith(count: number): ChatBuffer {
    const lines: Line[] = [];
    for (let i = 0; i < count; i++)
      lines.push({ seq: i + 1, ts: 0, kind: "message", nick: "n", text: `line ${i}` });
    return { ...newBuffer("room", "lobby"), lines };
  }

  it("returns only the rows that fit, bottom-aligned, from the scroll position", () => {
    const buffer = bufferWith(10_000);
    const rows = visibleRows(buffer, 80, 5).map(rowText);
    expect(rows).toHaveLength(5);
    expect(rows[4]).toContain("line 9999");
    const back = visibleRows({ ...buffer, scroll: 100 }, 80, 5).map(rowText);
    expect(back[4]).toContain("line 9899");
  });

  it("draws the read marker above the first unread line", () => {
    const buffer = { ...bufferWith(6), readMarker: 5 };
    const rows = visibleRows(buffer, 40, 10).map(rowText);
    const marker = rows.findIndex((r) => r.includes(" new "));
    expect(rows[marker + 1]).toContain("line 4");
  });
});
