import { describe, expect, it } from "vitest";
import { PasteSplitter } from "./bracketed-paste.js";

describe("PasteSplitter", () => {
  it("passes typed keys through", () => {
    expect(new PasteSplitter().push("hello\r")).toEqual({ keys: "hello\r", pastes: [] });
  });

  it("takes a bracketed paste out of the key stream, across chunks", () => {
    const splitter = new PasteSplitter();
    expect(splitter.push("a\x1b[200~one\r")).toEqual({ keys: "a", pastes: [] });
    expect(splitter.push("둘\x1b[201~b")).toEqual({ keys: "b", pastes: ["one\r둘"] });
  });

  it("treats several lines in one read as a paste", () => {
    expect(new PasteSplitter().push("one\rtwo\r")).toEqual({ keys: "", pastes: ["one\rtwo\r"] });
  });
});
