import { describe, expect, it } from "vitest";
import {
  cursorColumn,
  type EditOp,
  EMPTY_INPUT,
  edit,
  type InputLine,
  insertText,
  viewInput,
} from "./input.js";

function type(text: string, start: InputLine = EMPTY_INPUT): InputLine {
  return insertText(start, text);
}
function apply(input: InputLine, ...ops: EditOp[]): InputLine {
  return ops.reduce(edit, input);
}

describe("input line editing", () => {
  it("moves over Hangul one syllable at a time, the cursor two columns per syllable", () => {
    const input = type("안녕하세요");
    expect(cursorColumn(input)).toBe(10);
    const moved = apply(input, "left", "left");
    expect(moved.cursor).toBe(3);
    expect(cursorColumn(moved)).toBe(6);
    expect(cursorColumn(apply(moved, "home"))).toBe(0);
    expect(cursorColumn(apply(moved, "right"))).toBe(8);
  });

  it("inserts in the middle of wide text", () => {
    const input = type("X", apply(type("한국어"), "left"));
    expect(input.text).toBe("한국X어");
    expect(cursorColumn(input)).toBe(5);
  });

  it("treats an emoji (surrogate pair) and a ZWJ family as one character", () => {
    const input = type("a😀👨‍👩‍👧b");
    const back1 = apply(input, "left");
    const back2 = apply(back1, "left");
    expect(cursorColumn(back1)).toBe(9);
    expect(cursorColumn(back2)).toBe(3);
    expect(apply(back2, "backspace").text).toBe("a👨‍👩‍👧b");
    expect(apply(back2, "delete").text).toBe("a😀b");
  });

  it("deletes a combining sequence as one character", () => {
    expect(apply(type("cafe\u0301"), "backspace").text).toBe("caf");
  });

  it("jumps by words and deletes words like readline", () => {
    const input = type("hello 세계 world");
    expect(apply(input, "wordLeft").cursor).toBe("hello 세계 ".length);
    expect(apply(input, "wordLeft", "wordLeft").cursor).toBe("hello ".length);
    expect(apply(input, "home", "wordRight").cursor).toBe(5);
    expect(apply(input, "deleteWordBack").text).toBe("hello 세계 ");
    expect(apply(input, "wordLeft", "deleteWordBack").text).toBe("hello world");
    expect(apply(input, "home", "deleteWordForward").text).toBe(" 세계 world");
  });

  it("kills to the start and to the end (Ctrl+U, Ctrl+K)", () => {
    const input = apply(type("abc def"), "left", "left", "left");
    expect(apply(input, "killToStart")).toEqual({ text: "def", cursor: 0 });
    expect(apply(input, "killToEnd")).toEqual({ text: "abc ", cursor: 4 });
  });

  it("transposes the two characters around the cursor", () => {
    expect(apply(type("ab가"), "left", "transpose").text).toBe("a가b");
  });

  it("turns line breaks and tabs into spaces and drops control characters", () => {
    expect(type("a\nb\tc\x07").text).toBe("a b c");
  });
});

describe("viewInput", () => {
  it("shows short input unscrolled with the cursor at its column", () => {
    expect(viewInput(type("안녕"), 20)).toEqual({ text: "안녕", cursorColumn: 4 });
  });

  it("scrolls long wide input so the cursor stays visible and inside the width", () => {
    const input = type("가".repeat(40));
    const view = viewInput(input, 21);
    expect(view.cursorColumn).toBeGreaterThanOrEqual(0);
    expect(view.cursorColumn).toBeLessThan(21);
    // Everything left of the cursor that is shown is whole syllables.
    expect(view.text).toMatch(/^가+$/);
    expect(view.cursorColumn % 2).toBe(0);
  });

  it("keeps the cursor visible anywhere in a long line", () => {
    let input = type("abc한글😀".repeat(20));
    for (let i = 0; i < 100; i++) {
      const view = viewInput(input, 17);
      expect(view.cursorColumn).toBeLessThan(17);
      expect(view.cursorColumn).toBeGreaterThanOrEqual(0);
      input = edit(input, "left");
    }
  });
});
