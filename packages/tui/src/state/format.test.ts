import { describe, expect, it } from "vitest";
import { newBuffer } from "./buffers.js";
import { formatLine, tabBar, visibleRows, wrapText } from "./format.js";
import { initialState } from "./reducer.js";
import type { AppState, ChatBuffer, Line } from "./types.js";
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
    expect(back).toHaveLength(5);
    expect(back[3]).toContain("line 9899");
  });

  it("ends a scrolled-back pane with a -- more -- row that counts the lines below", () => {
    const buffer = bufferWith(50);
    const back = visibleRows({ ...buffer, scroll: 12 }, 80, 5).map(rowText);
    expect(back[4]).toMatch(
      /^-- more -- 12 lines below \(PageDown, Ctrl\+End: back to the end\) *$/,
    );
    expect(stringWidth(back[4]!)).toBe(80);
    expect(visibleRows({ ...buffer, scroll: 1 }, 80, 5).map(rowText)[4]).toMatch(
      /^-- more -- 1 line below/,
    );
    // A narrow pane gets a shorter wording, never a cut one.
    expect(visibleRows({ ...buffer, scroll: 12 }, 40, 5).map(rowText)[4]).toMatch(
      /^-- more -- 12 lines below \(PageDown\) *$/,
    );
    expect(visibleRows({ ...buffer, scroll: 12 }, 12, 5).map(rowText)[4]).toBe("-- more (12)");
    // At the bottom, no marker: the last row is the last line.
    expect(visibleRows(buffer, 80, 5).map(rowText)[4]).toContain("line 49");
    expect(visibleRows(buffer, 80, 5).map(rowText).join("\n")).not.toContain("-- more --");
  });

  it("draws the read marker above the first unread line", () => {
    const buffer = { ...bufferWith(6), readMarker: 5 };
    const rows = visibleRows(buffer, 40, 10).map(rowText);
    const marker = rows.findIndex((r) => r.includes(" new "));
    expect(rows[marker + 1]).toContain("line 4");
  });
});

describe("tabBar", () => {
  function withRooms(names: string[], active: number): AppState {
    const base = initialState({ server: "h:1" });
    const rooms = names.map((n) => newBuffer("room", n));
    const buffers = [...base.buffers, ...rooms];
    return { ...base, buffers, active: buffers[active]!.key };
  }
  const ROOMS = Array.from({ length: 12 }, (_, i) => `방${i + 1}`);

  it("shows every tab when they fit, padded to the width", () => {
    const state = withRooms(["a", "b"], 1);
    const text = rowText(tabBar(state, 40));
    expect(text.trimEnd()).toBe(" 1:status  2:#a  3:#b");
    expect(stringWidth(text)).toBe(40);
  });

  it("when the tabs overflow, keeps the active one and counts the hidden ones at each edge", () => {
    const state = withRooms(ROOMS, 7); // 8:#방7
    const row = tabBar(state, 40);
    const text = rowText(row);
    expect(stringWidth(text)).toBe(40);
    expect(text).toContain(" 8:#방7 ");
    const left = /^<\+(\d+) /.exec(text);
    const right = /\+(\d+)>$/.exec(text);
    expect(left).not.toBeNull();
    expect(right).not.toBeNull();
    const shown = text.match(/ \d+:/g)!.length;
    expect(Number(left![1]) + shown + Number(right![1])).toBe(13);
    // The hidden ones are the ones before and after the run shown.
    expect(text).toContain(` ${Number(left![1]) + 1}:`);
    expect(text).toContain(` ${13 - Number(right![1])}:`);
  });

  it("shows only a right count at the start and only a left count at the end", () => {
    expect(rowText(tabBar(withRooms(ROOMS, 0), 40))).toMatch(/^ 1:status .*\+\d+>$/);
    const end = rowText(tabBar(withRooms(ROOMS, 12), 40));
    expect(end).toMatch(/^<\+\d+ .* 13:#방12 *$/);
    expect(end).not.toContain(">");
  });

  it("colours an overflow count like the busiest tab it hides", () => {
    const state = withRooms(ROOMS, 0);
    const buffers = state.buffers.map((b, i) =>
      i === 12 ? { ...b, unread: 2, highlight: true } : b,
    );
    const row = tabBar({ ...state, buffers }, 40);
    expect(row.at(-1)).toMatchObject({ style: "tabHighlight" });
    expect(row.at(-1)!.text).toMatch(/^\+\d+>$/);
  });
});

describe("history lines", () => {
  it("are drawn dim from the time to the end of the text", () => {
    const live = formatLine({ seq: 1, ts: 0, kind: "message", nick: "ann", text: "hi" }, 80);
    const old = formatLine(
      { seq: 2, ts: 0, kind: "message", nick: "ann", text: "hi", history: true },
      80,
    );
    expect(old.map((row) => row.map((s) => s.text).join(""))).toEqual(
      live.map((row) => row.map((s) => s.text).join("")),
    );
    expect(new Set(old.flat().map((s) => s.style))).toEqual(new Set(["dim"]));
    expect(new Set(live.flat().map((s) => s.style)).size).toBeGreaterThan(1);
  });
});
