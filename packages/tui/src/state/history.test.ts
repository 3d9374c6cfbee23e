import { describe, expect, it } from "vitest";
import { browse, EMPTY_HISTORY, remember } from "./history.js";

describe("history", () => {
  const filled = ["first", "second", "second", " ", "third"].reduce(remember, EMPTY_HISTORY);

  it("skips blank lines and repeats", () => {
    expect(filled.entries).toEqual(["first", "second", "third"]);
  });

  it("walks back and forward and brings the draft back", () => {
    const back1 = browse(filled, -1, "draft 한글")!;
    expect(back1.text).toBe("third");
    const back2 = browse(back1.history, -1, back1.text)!;
    expect(back2.text).toBe("second");
    const forward = browse(back2.history, 1, back2.text)!;
    const draft = browse(forward.history, 1, forward.text)!;
    expect(draft.text).toBe("draft 한글");
    expect(browse(draft.history, 1, draft.text)).toBeUndefined();
  });

  it("stops at the oldest entry", () => {
    let h = filled;
    let text = "";
    for (let i = 0; i < 3; i++) ({ history: h, text } = browse(h, -1, text)!);
    expect(text).toBe("first");
    expect(browse(h, -1, text)).toBeUndefined();
  });
});
